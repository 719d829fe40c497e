"""Time helpers: instants are stored in UTC, business dates are Beijing dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from gateway.settings import BUSINESS_TZ

# The demo simulates a month in a couple of minutes: it moves this clock (and only the
# demo and tests do). Everything in the gateway that needs "now" reads ``utcnow()``.
_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def travel_to(instant: datetime) -> None:
    """Move the process's clock so that ``utcnow()`` is ``instant`` now and runs on from
    there (the demo's simulated days)."""
    global _offset
    if instant.tzinfo is None:
        raise ValueError("travel_to needs an aware datetime")
    _offset = instant - datetime.now(UTC)


def reset_clock() -> None:
    global _offset
    _offset = timedelta(0)


def beijing_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(BUSINESS_TZ).date()


def beijing_naive_to_utc(value: datetime) -> datetime:
    """A partner's ``YYYYMMDDHHMMSS`` (Beijing wall time) as a UTC instant."""
    return value.replace(tzinfo=BUSINESS_TZ).astimezone(UTC)


def as_beijing(instant: datetime) -> datetime:
    return instant.astimezone(BUSINESS_TZ)


def end_of_beijing_day(day: date) -> datetime:
    """The first instant after ``day`` ends in Beijing, in UTC."""
    return datetime.combine(day, time.max, BUSINESS_TZ).astimezone(UTC)
