"""The sandbox partners' calendar and simulated clock.

The sandbox keeps a deliberately simple notion of working day: Monday to Friday. The real
PRC schedule (holidays and make-up days) is the gateway's business (a table operators
load); a partner's test system that ignores holidays is still a fair partner, and it keeps
the sandbox independent of the gateway's calendar code (docs/decisions.md, "Sandbox").
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def is_working_day(d: date) -> bool:
    """Monday to Friday."""
    return d.weekday() < 5


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
