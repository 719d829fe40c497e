"""Time helpers: instants are stored in UTC, business dates are Beijing dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from gateway.settings import BUSINESS_TZ


def utcnow() -> datetime:
    return datetime.now(UTC)  # the same as gateway.models.columns.utcnow, for non-model code


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
