"""Time helpers: instants are stored in UTC, business dates are Beijing dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

from gateway.settings import BUSINESS_TZ

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
    return (now or utcnow()).astimezone(BUSINESS_TZ).date()


def business_day(value: str | date | None) -> date:
    """A job's date argument: an ISO date string (jobs take plain values), a date, or
    None for today in Beijing."""
    if value is None:
        return beijing_today()
    return value if isinstance(value, date) else date.fromisoformat(value)


def as_beijing(instant: datetime) -> datetime:
    return instant.astimezone(BUSINESS_TZ)
