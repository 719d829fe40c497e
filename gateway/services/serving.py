"""Who is serving now, for the service map: the open sessions per district and site.

A session is serving when it is checked in, not checked out, and began within the last
day (``MAX_SESSION``): an older one is a forgotten check-out, which can no longer be
checked out by a swipe and is no one serving now. The counts are one ``GROUP BY`` on the
open sessions (``ix_service_sessions_open``); the names, for the roles that may see them,
a second query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain.service_rules import MAX_SESSION
from gateway.models import ServiceSession, Volunteer
from gateway.models.volunteers import SessionKind


@dataclass(frozen=True)
class SiteCount:
    district: str | None  # None: a session recorded without a place
    site: str | None
    serving: int


def _serving(now: datetime, district: str | None):
    where = [
        ServiceSession.kind == SessionKind.SESSION,
        ServiceSession.check_out.is_(None),
        ServiceSession.check_in > now - MAX_SESSION,
        ServiceSession.check_in <= now,
    ]
    if district is not None:
        where.append(ServiceSession.district == district)
    return where


def counts(session: Session, now: datetime, district: str | None = None) -> list[SiteCount]:
    """Open sessions per (district, site), ordered by district then site (no place first)."""
    rows = session.execute(
        select(ServiceSession.district, ServiceSession.site, func.count())
        .where(*_serving(now, district))
        .group_by(ServiceSession.district, ServiceSession.site)
    )
    out = [SiteCount(d, s, int(n)) for d, s, n in rows]
    return sorted(out, key=lambda c: (c.district or "", c.site or ""))


def serving(
    session: Session, now: datetime, district: str | None = None
) -> list[tuple[ServiceSession, Volunteer]]:
    """The open sessions with their volunteers, by district, site and check-in."""
    rows = session.execute(
        select(ServiceSession, Volunteer)
        .join(Volunteer, Volunteer.id == ServiceSession.volunteer_id)
        .where(*_serving(now, district))
        .order_by(
            func.coalesce(ServiceSession.district, ""),  # no place first, on both databases
            func.coalesce(ServiceSession.site, ""),
            ServiceSession.check_in,
            ServiceSession.id,
        )
    )
    return [(row[0], row[1]) for row in rows]
