"""Column types shared by the models: UTC instants that read back tz-aware on SQLite too."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from gateway.timeutil import utcnow  # the gateway's clock, the models' default for timestamps

__all__ = ["UtcDateTime", "utcnow"]


class UtcDateTime(TypeDecorator):
    """A UTC instant. Accepts aware datetimes only; always returns aware UTC datetimes
    (SQLite has no time zones, so the value is stored naive in UTC and re-tagged)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: instants must carry a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
