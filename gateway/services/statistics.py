"""The programme's statistics: the monthly aggregates the statistics job keeps
(``refresh_month``), and the answers read from them (``year``, ``cells``).

Refreshing recomputes a whole month from the sessions, the volunteers and the cards, with
one ``GROUP BY`` each, and replaces the month's rows: the figures are always what the
records say, a refresh run twice (or on two workers) gives the same rows, and a late
check-out or a corrected record is picked up by the next refresh without any counter to
keep right. The month's row is locked first (``FOR UPDATE`` on PostgreSQL), so two
refreshes of one month run one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, distinct, func, select
from sqlalchemy.orm import Session

from gateway.domain.calendar import add_months_clamped
from gateway.models import Card, ServiceSession, StatCell, StatMonth, Terminal, Volunteer
from gateway.models.statistics import StatDimension
from gateway.models.volunteers import SessionKind
from gateway.timeutil import BEIJING, beijing_today, utcnow

DIMENSIONS = (StatDimension.DISTRICT, StatDimension.ORGANISATION)  # what the API answers


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return add_months_clamped(month, 1)


def year_months(year_: int) -> tuple[date, date]:
    """The first and the last month of ``year_`` (the bounds ``cells`` takes for a year)."""
    return date(year_, 1, 1), date(year_, 12, 1)


def parse_month(value: str) -> date:
    """``YYYY-MM`` to the month's first day (ValueError otherwise)."""
    year, sep, mon = value.partition("-")
    if not (sep and len(year) == 4 and len(mon) == 2 and year.isdigit() and mon.isdigit()):
        raise ValueError(f"{value!r} is not a month (YYYY-MM)")
    return date(int(year), int(mon), 1)


def _bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first and the next month's first instant, Beijing midnight, as aware datetimes."""
    return (
        datetime.combine(month, time(), BEIJING),
        datetime.combine(next_month(month), time(), BEIJING),
    )


def _served(start: datetime, end: datetime):
    return (
        ServiceSession.kind == SessionKind.SESSION,
        ServiceSession.check_out.is_not(None),
        ServiceSession.check_in >= start,
        ServiceSession.check_in < end,
    )


def _figures(columns):
    return (
        func.count(),
        func.coalesce(func.sum(ServiceSession.minutes), 0),
        func.count(distinct(ServiceSession.volunteer_id)),
        *columns,
    )


def refresh_month(session: Session, month: date) -> StatMonth:
    """Recompute ``month``'s figures and cells from the records, replacing what was kept."""
    month = month_of(month)
    row = session.get(StatMonth, month, with_for_update=True)
    if row is None:
        row = StatMonth(month=month)
        session.add(row)
        session.flush()  # a second refresh racing this one now waits on, or fails at, the key
    start, end = _bounds(month)
    where = _served(start, end)
    sessions, minutes, volunteers = session.execute(select(*_figures(())).where(*where)).one()
    row.sessions, row.minutes, row.volunteers = sessions, minutes, volunteers
    row.applied = session.scalar(
        select(func.count()).where(Volunteer.applied_at >= start, Volunteer.applied_at < end)
    )
    row.official = session.scalar(
        select(func.count()).where(
            Volunteer.official_since >= month, Volunteer.official_since < next_month(month)
        )
    )
    row.cards_collected = session.scalar(
        select(func.count()).where(Card.collected_at >= start, Card.collected_at < end)
    )
    row.computed_at = utcnow()

    session.execute(delete(StatCell).where(StatCell.month == month))
    district = func.coalesce(ServiceSession.district, "")
    organisation = func.coalesce(Terminal.organisation, "")

    def grouped(*keys):
        stmt = select(*_figures(keys)).where(*where)
        if any(k is organisation for k in keys):
            stmt = stmt.outerjoin(Terminal, Terminal.terminal_id == ServiceSession.terminal_id)
        return stmt.group_by(*keys)

    for dimension, keys in (
        (StatDimension.DISTRICT, (district,)),
        (StatDimension.ORGANISATION, (organisation,)),
        (StatDimension.ORGANISATION_DISTRICT, (organisation, district)),
    ):
        session.add_all(
            StatCell(month=month, dimension=dimension, key=key, sub=sub[0] if sub else "",
                     sessions=n, minutes=m, volunteers=v)
            for n, m, v, key, *sub in session.execute(grouped(*keys))
        )  # fmt: skip
    session.flush()
    return row


def months_to_refresh(today: date | None = None) -> list[date]:
    """What the scheduled refresh recomputes: this month, and the last one (a session
    checked in on the 31st and out on the 1st, a record corrected after the month ended)."""
    this = month_of(today or beijing_today())
    return [month_of(this - timedelta(days=1)), this]


@dataclass(frozen=True)
class MonthFigures:
    month: date
    minutes: int
    sessions: int
    volunteers: int
    applied: int
    official: int
    cards_collected: int
    computed_at: datetime | None  # None: never computed (no row yet)

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def average_hours(self) -> float | None:
        """Service hours per volunteer who served in the month (None: nobody served)."""
        return round(self.minutes / 60 / self.volunteers, 2) if self.volunteers else None


def year(session: Session, year_: int) -> list[MonthFigures]:
    """The twelve months of ``year_``, every month present (zeros where nothing was kept)."""
    first, last = year_months(year_)
    kept = {
        r.month: r
        for r in session.scalars(select(StatMonth).where(StatMonth.month >= first, StatMonth.month <= last))
    }
    out = []
    for m in range(1, 13):
        month = date(year_, m, 1)
        r = kept.get(month)
        out.append(
            MonthFigures(month, 0, 0, 0, 0, 0, 0, None)
            if r is None
            else MonthFigures(
                month,
                r.minutes,
                r.sessions,
                r.volunteers,
                r.applied,
                r.official,
                r.cards_collected,
                r.computed_at,
            )
        )
    return out


def cells(
    session: Session, dimension: str, first: date, last: date, key: str | None = None
) -> list[StatCell]:
    """The kept cells of ``dimension`` for the months ``first``..``last`` (only ``key``'s
    when given), by month then most minutes first."""
    if dimension not in (*DIMENSIONS, StatDimension.ORGANISATION_DISTRICT):
        raise ValueError(f"{dimension!r}: not one of {', '.join(DIMENSIONS)}")
    stmt = select(StatCell).where(
        StatCell.dimension == dimension, StatCell.month >= first, StatCell.month <= last
    )
    if key is not None:
        stmt = stmt.where(StatCell.key == key)
    return list(
        session.scalars(stmt.order_by(StatCell.month, StatCell.minutes.desc(), StatCell.key, StatCell.sub))
    )


def organisations(session: Session, first: date, last: date) -> list[str]:
    """The organisations with service kept for the months ``first``..``last``."""
    return list(
        session.scalars(
            select(StatCell.key)
            .where(
                StatCell.dimension == StatDimension.ORGANISATION,
                StatCell.key != "",
                StatCell.month >= first,
                StatCell.month <= last,
            )
            .distinct()
            .order_by(StatCell.key)
        )
    )
