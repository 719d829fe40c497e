"""Time helpers: instants are stored in UTC, business dates are Beijing dates.

The gateway's one clock (``utcnow``), its one Beijing zone (``BEIJING``, the partners'
contract's own: ``schemas.fields``) and its one business-date function (``beijing_today``,
``beijing_date`` for an instant)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from schemas.fields import BEIJING

__all__ = ["BEIJING", "as_beijing", "beijing_date", "beijing_today", "business_day", "utcnow"]

# The demo simulates a month in a couple of minutes: it sets this clock (and only the
# demo and tests do). Everything in the gateway that needs "now" reads ``utcnow()``.
_frozen: datetime | None = None


def utcnow() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def travel_to(instant: datetime) -> None:
    """Set the process's clock to ``instant`` and hold it there until the next call (the
    demo's simulated steps: a held clock makes a run with the same seed repeat exactly)."""
    global _frozen
    if instant.tzinfo is None:
        raise ValueError("travel_to needs an aware datetime")
    _frozen = instant.astimezone(UTC)


def reset_clock() -> None:
    global _frozen
    _frozen = None


def beijing_today(now: datetime | None = None) -> date:
    """Today's (or ``now``'s) Beijing date."""
    return (now or utcnow()).astimezone(BEIJING).date()


def beijing_date(instant: datetime) -> date:
    """The Beijing date of an instant."""
    return instant.astimezone(BEIJING).date()


def business_day(value: str | date | None) -> date:
    """A job's date argument: an ISO date string (jobs take plain values), a date, or
    None for today in Beijing."""
    if value is None:
        return beijing_today()
    return value if isinstance(value, date) else date.fromisoformat(value)


def as_beijing(instant: datetime) -> datetime:
    return instant.astimezone(BEIJING)
