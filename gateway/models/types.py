"""Column types for PII: encrypted at rest with the runtime's data key (keys.pii).

``Encrypted`` columns hold text (or bytes, for photos) in Python and a sealed blob in the
database. The column's ``table.column`` name is the AEAD context, so ciphertexts cannot be
swapped between columns. The data-key rotation finds every such column through
``encrypted_columns()``.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

from keys.pii import FieldCipher


@lru_cache(maxsize=8)
def _cipher(current: bytes, previous: tuple[bytes, ...]) -> FieldCipher:
    return FieldCipher(current, previous)


def _settings():  # noqa: ANN202 - the runtime's Settings
    # A column type has no session to ask: the keys at rest are the process's. Imported
    # here because the runtime imports the models (the engine's metadata).
    from gateway import context

    return context.current().settings


def cipher() -> FieldCipher:
    s = _settings()
    return _cipher(s.data_key, s.data_key_previous)


def lookup_key() -> bytes:
    """The process's key of the keyed look-up hashes (ID numbers, phones)."""
    return _settings().lookup_key


class Encrypted(TypeDecorator):
    """A PII value sealed with AES-256-GCM. ``context`` is ``table.column``."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str, binary: bool = False) -> None:
        super().__init__()
        self.context = context
        self.binary = binary

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        raw = value if self.binary else value.encode("utf-8")
        return cipher().encrypt(raw, self.context)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        raw = cipher().decrypt(bytes(value), self.context)
        return raw if self.binary else raw.decode("utf-8")


def encrypted_columns(metadata) -> list[tuple[str, str, Encrypted]]:
    """(table, column, type) for every encrypted column of ``metadata``."""
    out = []
    for table in metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, Encrypted):
                out.append((table.name, col.name, col.type))
    return out
