"""The demo's POS terminals: one or two in every district of the city, run by the
district's volunteer federation or a partner organisation, loaded through the production
CSV loader (one row wrong on purpose, refused with its line and field) — and where the
demo's volunteers serve, so the statistics, the service map and the console's charts
have real shapes.

Coordinates are each site's, to three decimals (about 100 m): enough for a map.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.errors import DomainError
from gateway.domain.places import OUTSIDE
from gateway.models import Volunteer
from gateway.services import terminal_import
from gateway.services import terminal_swipes as swipes
from gateway.services.terminal_import import LoadReport

COLUMNS = "terminal_id,organisation,district,site_name,latitude,longitude,active"
# terminal id, organisation, district, site, latitude, longitude, and its weight: service
# in the city's centre draws more volunteers.
_SITES = """
POS-FT-0001  福田区义工联            福田区    市民中心      22.543 114.058 6
POS-FT-0002  福田区义工联            福田区    莲花山公园    22.554 114.056 3
POS-LH-0001  罗湖区义工联            罗湖区    东门步行街    22.546 114.120 4
POS-NS-0001  南山区义工联            南山区    深圳湾公园    22.518 113.955 5
POS-NS-0002  深圳图书馆志愿者服务队  南山区    南山图书馆    22.529 113.927 2
POS-BA-0001  宝安区义工联            宝安区    宝安国际机场  22.639 113.811 3
POS-LG-0001  龙岗区义工联            龙岗区    大运中心      22.698 114.213 3
POS-YT-0001  盐田区义工联            盐田区    大梅沙        22.594 114.306 1
POS-LHU-0001 龙华区义工联            龙华区    观澜湖        22.717 114.061 2
POS-PS-0001  坪山区义工联            坪山区    坪山图书馆    22.690 114.346 1
POS-GM-0001  光明区义工联            光明区    光明农场      22.748 113.935 1
POS-DP-0001  大鹏新区义工联          大鹏新区  大鹏所城      22.594 114.514 1
"""
_ROWS = [line.split() for line in _SITES.strip().splitlines()]
TERMINALS = tuple(tuple(r[:6]) for r in _ROWS)
WEIGHTS = tuple(int(r[6]) for r in _ROWS)
OUTSIDE_SHARE = 0.08  # a volunteer team serving outside the city (not covered: insurer.md)
BAD_ROW = "POS-DG-0001,东莞市义工联,东莞市,,,,Y"  # not a Shenzhen district: refused, line 14


def serving_volunteers(session: Session) -> list[str]:
    """The numbers of the official volunteers still registered: who may serve today."""
    return list(
        session.scalars(
            select(Volunteer.volunteer_no)
            .where(Volunteer.volunteer_no.is_not(None), Volunteer.deregistered_at.is_(None))
            .order_by(Volunteer.id)
        )
    )


def pick_terminal(rng: random.Random) -> str:
    return rng.choices(TERMINALS, WEIGHTS)[0][0]


def csv_bytes() -> bytes:
    rows = [COLUMNS, *(",".join((*t, "Y")) for t in TERMINALS), BAD_ROW]
    return ("\n".join(rows) + "\n").encode()


def load(session: Session) -> LoadReport:
    return terminal_import.load_csv_bytes(session, csv_bytes(), file_name="demo-terminals.csv", actor="demo")


@dataclass(frozen=True)
class Shift:
    start: datetime
    end: datetime
    volunteers: int  # how many of the day's volunteers serve in it


ACTIVITIES = ("社区服务", "交通文明劝导", "图书馆服务", "公园环保", "关爱长者")


def serve(
    session: Session, rng: random.Random, numbers: list[str], shift: Shift, *, actor: str
) -> tuple[int, list[str]]:
    """Each volunteer swipes in at a terminal (or is checked in by the platform outside
    the city) at the shift's start and out at its end, through the terminal swipe service;
    answers the sessions recorded and each refusal (a card lost, a session still open)."""
    recorded, refused = 0, []
    for no in numbers:
        outside = rng.random() < OUTSIDE_SHARE
        terminal = None if outside else pick_terminal(rng)
        # Arrivals and departures spread over a quarter of an hour, as at a real site.
        start = shift.start + timedelta(minutes=rng.randrange(15))
        end = shift.end - timedelta(minutes=rng.randrange(15))
        where = {"district": OUTSIDE} if outside else {"terminal_id": terminal}
        try:
            swipes.check_in(
                session,
                swipes.Swipe(start, volunteer_no=no, **where),
                activity=rng.choice(ACTIVITIES),
                actor=actor,
            )
            swipes.check_out(session, swipes.Swipe(end, volunteer_no=no, terminal_id=terminal), actor=actor)
            recorded += 1
        except DomainError as exc:
            refused.append(f"session for {no} refused: {exc}")
    return recorded, refused
