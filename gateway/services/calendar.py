"""The working-day calendar in the database: seed, load, read, and recompute the due
dates that depend on it. Each function works in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.domain import calendar as cal_rules
from gateway.domain.calendar import CalendarRow, WorkingCalendar
from gateway.models import CalendarDay, CalendarYear, Order
from gateway.models.cards import OrderStatus
from gateway.models.exchange import Alert
from gateway.services.alerts import raise_alert, resolve_alerts
from gateway.timeutil import utcnow

#: Years seeded by ``seed_from_holidays`` when none are given.
DEFAULT_SEED_YEARS = range(2020, 2031)
#: From this day of December the next year's schedule is due: the State Council usually
#: publishes it in November or December, and every due date in it is provisional until
#: it is loaded (partners/README.md).
NEXT_YEAR_WARN_FROM = 1
NEXT_YEAR_ALERT = "calendar_next_year"


def working_calendar(session: Session) -> WorkingCalendar:
    """Every loaded year and its exceptional days."""
    years: dict[int, dict[date, bool]] = {y: {} for y in session.scalars(select(CalendarYear.year))}
    for day in session.scalars(select(CalendarDay)):
        years.setdefault(day.year, {})[day.day] = day.working
    return WorkingCalendar(years)


def year_rows(session: Session, year: int) -> tuple[CalendarYear | None, list[CalendarRow]]:
    """The year's row (None when not loaded) and its exceptional days."""
    row = session.get(CalendarYear, year)
    days = session.scalars(select(CalendarDay).where(CalendarDay.year == year).order_by(CalendarDay.day))
    return row, [CalendarRow(d.day, d.working, d.name) for d in days]


def load_year(session: Session, year: int, rows: Iterable[CalendarRow], *, source: str, actor: str) -> int:
    """Replace ``year``'s schedule (the rows are the complete list) and recompute every due
    date that depends on it. Returns the number of orders whose due dates changed."""
    rows = list(rows)
    for r in rows:
        if r.day.year != year:
            raise ValueError(f"{r.day} is not in {year}")
    session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    cy = session.get(CalendarYear, year)
    if cy is None:
        cy = CalendarYear(year=year, source=source[:120], loaded_by=actor[:64])
        session.add(cy)
    else:
        cy.source, cy.loaded_by, cy.loaded_at = source[:120], actor[:64], utcnow()
    session.flush()
    session.add_all(CalendarDay(day=r.day, year=year, working=r.working, name=r.name) for r in rows)
    session.flush()
    resolve_alerts(session, NEXT_YEAR_ALERT, _next_year_subject(year), f"{year} loaded from {source}")
    return recompute_due_dates(session, year)


def seed_from_holidays(
    session: Session, years: Iterable[int] = DEFAULT_SEED_YEARS, *, actor: str = "system"
) -> list[int]:
    """Seed each year the ``holidays`` package has a published schedule for and that is not
    loaded yet (an operator's load is never overwritten). Returns the years seeded."""
    import holidays  # holidays (with its calendars and dateutil) loads only to seed a year

    seeded = []
    for year in years:
        if session.get(CalendarYear, year) is not None:
            continue
        rows = cal_rules.holidays_schedule(year)
        if rows is None:
            continue
        load_year(session, year, rows, source=f"holidays {holidays.__version__}", actor=actor)
        seeded.append(year)
    return seeded


def set_day0(session: Session, order: Order, day0: date, cal: WorkingCalendar | None = None) -> None:
    """Start the order's service levels (the bank ACKed the first upload of its file
    ACCEPTED or PARTIAL on Beijing date ``day0``). A later upload does not move day 0."""
    if order.day0 is not None:
        return
    order.day0 = day0
    if order.status in (OrderStatus.PENDING, OrderStatus.SENT):
        order.status = OrderStatus.ACKED
    _set_dues(order, cal or working_calendar(session))


def _set_dues(order: Order, cal: WorkingCalendar) -> bool:
    produced, notified = cal_rules.service_level_dues(cal, order.day0)
    changed = (order.produced_due, order.notified_due, order.due_provisional) != (
        produced.day,
        notified.day,
        produced.provisional or notified.provisional,
    )
    order.produced_due, order.notified_due = produced.day, notified.day
    order.due_provisional = produced.provisional or notified.provisional
    return changed


def recompute_due_dates(session: Session, year: int | None = None) -> int:
    """Recompute the due dates of the orders whose counting may pass through ``year`` (all
    orders with a day 0 when None), after a year was loaded or corrected. Returns how many
    changed."""
    cal = working_calendar(session)
    query = select(Order).where(Order.day0.is_not(None))
    if year is not None:
        # 20 working days never span more than two months: earlier orders cannot reach ``year``.
        query = query.where(Order.day0 >= date(year - 1, 10, 1), Order.day0 <= date(year, 12, 31))
    changed = 0
    for order in session.scalars(query):
        changed += _set_dues(order, cal)
    session.flush()
    return changed


@dataclass(frozen=True)
class YearSummary:
    year: int
    loaded: bool
    source: str | None
    working_days: int
    rows: list[CalendarRow]


def summary(session: Session, year: int) -> YearSummary:
    cy, rows = year_rows(session, year)
    cal = working_calendar(session)
    return YearSummary(year, cy is not None, cy.source if cy else None, cal.working_days_in(year), rows)


def _next_year_subject(year: int) -> str:
    return f"calendar:{year}"


def next_year_warning(session: Session, today: date) -> str | None:
    """From 1 December, while next year's schedule is not loaded: what an operator must do."""
    nxt = today.year + 1
    if (today.month, today.day) < (12, NEXT_YEAR_WARN_FROM) or session.get(CalendarYear, nxt) is not None:
        return None
    return (
        f"the {nxt} working-day calendar is not loaded: due dates in {nxt} count only Saturdays and "
        f"Sundays as non-working and are provisional; load the State Council's schedule with "
        f"`svcard calendar load {nxt} FILE` (docs/runbook.md)"
    )


def next_year_alert(session: Session, year: int) -> Alert | None:
    """The open alert that ``year``'s schedule is not loaded, if any."""
    return session.scalar(
        select(Alert).where(
            Alert.kind == NEXT_YEAR_ALERT,
            Alert.subject == _next_year_subject(year),
            Alert.resolved_at.is_(None),
        )
    )


def check_next_year(session: Session, today: date) -> str | None:
    """The daily sweep: raise (once) the alert of :func:`next_year_warning`; its text or None.
    Loading the year closes it (``load_year``)."""
    warning = next_year_warning(session, today)
    if warning is not None:
        raise_alert(session, NEXT_YEAR_ALERT, None, warning, subject=_next_year_subject(today.year + 1))
    return warning
