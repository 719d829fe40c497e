"""Service statistics for the operators' console: the year's monthly average service
hours per volunteer, and service by district (``gateway.domain.places``), optionally for
one month and one organisation (the terminals' owner).

Every figure is an aggregate computed by the database (sums and counts, a query per
month), so the cost does not grow with what a page shows. Sessions count in the Beijing
month of their check-out; a session without a place counts in no district.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gateway.domain import places
from gateway.models import ServiceSession
from gateway.models.terminals import Terminal
from gateway.timeutil import BEIJING


def _month_start(year: int, month: int) -> datetime:
    if month == 13:
        year, month = year + 1, 1
    return datetime(year, month, 1, tzinfo=BEIJING)


def _scoped(stmt: Select, organisation: str | None) -> Select:
    stmt = stmt.where(ServiceSession.check_out.is_not(None))
    if organisation:
        stmt = stmt.join(Terminal, Terminal.terminal_id == ServiceSession.terminal_id).where(
            Terminal.organisation == organisation
        )
    return stmt


@dataclass(frozen=True)
class MonthHours:
    period: str  # YYYYMM
    volunteers: int  # who served in the month
    minutes: int

    @property
    def average_hours(self) -> float:
        return round(self.minutes / 60 / self.volunteers, 2) if self.volunteers else 0.0


def monthly_average(session: Session, year: int, organisation: str | None = None) -> list[MonthHours]:
    """Per month of ``year``: volunteers who served, their minutes, the average hours."""
    out = []
    for month in range(1, 13):
        lo, hi = _month_start(year, month), _month_start(year, month + 1)
        stmt = _scoped(
            select(
                func.count(func.distinct(ServiceSession.volunteer_id)),
                func.coalesce(func.sum(ServiceSession.minutes), 0),
            ),
            organisation,
        ).where(ServiceSession.check_out >= lo, ServiceSession.check_out < hi)
        volunteers, minutes = session.execute(stmt).one()
        out.append(MonthHours(f"{year}{month:02d}", int(volunteers), int(minutes)))
    return out


@dataclass(frozen=True)
class DistrictHours:
    code: str
    name: str
    sessions: int
    minutes: int


def by_district(
    session: Session, first: date, last: date, organisation: str | None = None
) -> list[DistrictHours]:
    """Service per district from ``first`` to ``last`` (Beijing dates, inclusive), every
    district listed (zeros included), in the order of ``places.DISTRICTS``."""
    lo = datetime(first.year, first.month, first.day, tzinfo=BEIJING)
    hi = datetime(last.year, last.month, last.day, tzinfo=BEIJING)
    stmt = _scoped(
        select(ServiceSession.district, func.count(), func.coalesce(func.sum(ServiceSession.minutes), 0)),
        organisation,
    ).where(
        ServiceSession.check_out >= lo,
        ServiceSession.check_out < _next_day(hi),
        ServiceSession.district.is_not(None),
    )
    found = {code: (int(n), int(m)) for code, n, m in session.execute(stmt.group_by(ServiceSession.district))}
    return [DistrictHours(d.code, d.name, *found.get(d.code, (0, 0))) for d in places.DISTRICTS]


def _next_day(instant: datetime) -> datetime:
    return instant + timedelta(days=1)


def organisations(session: Session) -> list[str]:
    """The organisations owning terminals, for the filter."""
    return list(session.scalars(select(Terminal.organisation).distinct().order_by(Terminal.organisation)))
