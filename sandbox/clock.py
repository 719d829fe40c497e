"""The sandbox partners' calendar and simulated clock.

Working days follow the PRC State Council schedule where it has been published, read from
the public ``holidays`` package (weekday public holidays are off, make-up working days
(调休) on weekends are on); for a year whose schedule the package does not have yet, only
Saturdays and Sundays are off — what partners/README.md says of a year not yet loaded.
This is the partners' own reading of public data, not the gateway's calendar code (which
the sandbox must not share; docs/decisions.md, "Sandbox").
"""

from __future__ import annotations

import calendar
import functools
from datetime import date, datetime, time, timedelta, timezone

import holidays

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


@functools.cache
def _schedule(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(weekday days off, weekend working days) of ``year``; both empty when unpublished.

    The package extrapolates festivals for years not yet published but lists make-up days
    only for published ones: no make-up day means no published schedule.
    """
    cn = holidays.China(years=year)
    makeup = frozenset(d for d in cn.weekend_workdays if d.year == year)
    if not makeup:
        return frozenset(), frozenset()
    return frozenset(d for d in cn if d.year == year and d.weekday() < 5), makeup


def is_working_day(d: date) -> bool:
    """A working day by the published schedule of its year, else Monday to Friday."""
    off, makeup = _schedule(d.year)
    if d in makeup:
        return True
    return d.weekday() < 5 and d not in off


def add_working_days(d: date, n: int) -> date:
    """The ``n``-th working day after ``d`` (``n`` >= 0; 0 gives ``d`` itself)."""
    out = d
    while n > 0:
        out += timedelta(days=1)
        if is_working_day(out):
            n -= 1
    return out


def next_working_day(d: date) -> date:
    """``d`` if it is a working day, else the next one."""
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def add_months_clamped(d: date, months: int) -> date:
    """``d`` plus calendar months, clamped to the month's end (31 Aug + 6 = 28/29 Feb)."""
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def previous_month(d: date) -> tuple[int, int]:
    first = d.replace(day=1) - timedelta(days=1)
    return first.year, first.month


def at(d: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """Naive Beijing wall-clock time on ``d`` (the files' time form)."""
    return datetime.combine(d, time(hh, mm, ss))


def beijing_today(now: datetime | None = None) -> date:
    return (now or datetime.now(BEIJING)).astimezone(BEIJING).date()


def days(start: date, end: date) -> list[date]:
    """Every date from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
