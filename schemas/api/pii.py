"""PII fields for API answers: masked unless the current request is allowed to see them.

A ``Pii`` field dumps its value masked (``张**``, ``138****5678``, ``****-**-**``) by default. The API layer
opens a ``reveal()`` scope only for a request whose role may unmask and which asked for it
with a reason; inside that scope the values are dumped in clear and every revealed field
is noted, so the caller can write the audit entry. Masking is the default, so a schema or
a route that forgets about PII still masks.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from marshmallow import fields

KINDS = ("name", "id_number", "mobile", "address", "date", "text")
# A masked date shows nothing: the masked ID number shows region, sequence and check digit,
# so any part of the birth date (even the year) narrows the hidden digits down.
MASKED_DATE = "****-**-**"


@dataclass
class Revealed:
    """What a reveal scope dumped in clear: field names and the subjects they belong to."""

    fields: set[str] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)


_scope: ContextVar[Revealed | None] = ContextVar("svcard_pii_reveal", default=None)


@contextmanager
def reveal() -> Iterator[Revealed]:
    """Dump PII in clear inside this block; yields what was revealed."""
    seen = Revealed()
    token = _scope.set(seen)
    try:
        yield seen
    finally:
        _scope.reset(token)


def mask(value: str, kind: str) -> str:
    """The masked form of ``value``: enough to recognise, not enough to identify."""
    if not value:
        return value
    if kind == "mobile":
        return value[:3] + "*" * max(len(value) - 7, 1) + value[-4:] if len(value) > 7 else "*" * len(value)
    if kind == "id_number":
        if len(value) >= 12:
            return value[:6] + "*" * (len(value) - 10) + value[-4:]
        return value[0] + "*" * max(len(value) - 2, 1) + value[-1]
    if kind == "name":
        return value[0] + "*" * max(len(value) - 1, 1)
    if kind == "address":
        return value[:6] + "***"
    if kind == "date":
        return MASKED_DATE
    return "***"


def _subject(obj: Any) -> str | None:
    for key in ("volunteer_no", "provisional_no", "id"):
        value = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
        if value:
            return str(value)
    return None


class Pii(fields.String):
    """A string of personal data: masked unless inside ``reveal()``."""

    def __init__(self, kind: str, **kwargs: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown PII kind {kind!r}")
        self.kind = kind
        metadata = {"x-pii": kind, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        text = super()._serialize(value, attr, obj, **kwargs)
        if text is None:
            return None
        seen = _scope.get()
        if seen is None:
            return mask(text, self.kind)
        seen.fields.add(self.data_key or self.name or attr or "?")
        subject = _subject(obj)
        if subject:
            seen.subjects.add(subject)
        return text


class PiiBytes(fields.String):
    """Binary personal data (the photo) as base64: ``null`` unless inside ``reveal()``."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"x-pii": "binary", "format": "byte", **kwargs.pop("metadata", {})}
        super().__init__(allow_none=True, metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        seen = _scope.get()
        if value is None or seen is None:
            return None
        seen.fields.add(self.data_key or self.name or attr or "?")
        subject = _subject(obj)
        if subject:
            seen.subjects.add(subject)
        return base64.b64encode(value).decode("ascii")
