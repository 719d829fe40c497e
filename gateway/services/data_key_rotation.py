"""Re-encrypt every PII column under the current data key, in batches, resumably.

Procedure (README.md, "Keystore"): the operator sets ``SVCARD_DATA_KEY`` to the new key
and ``SVCARD_DATA_KEY_PREVIOUS`` to the old one(s), restarts the gateway's processes, and
runs ``svcard keys rotate-data-key``. Every value of every ``Encrypted`` column not under
the current key is decrypted (with a previous key) and re-encrypted, ``batch_size`` rows
at a time, each batch in its own transaction. A crash loses at most the batch in flight,
and a rerun picks up the rows still under an old key: each ciphertext names its key
(keys.pii), so "what is left" is a query, not a checkpoint. No row is ever unreadable: a
row is either still under an old key (readable with the previous keys) or under the new
one. The update is conditional on the old ciphertext, so a value the application rewrote
meanwhile (under the current key) is left alone; a value some stale process wrote under
an old key behind the cursor shows in the final count, and the operator runs it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import MetaData

from gateway.models.types import encrypted_columns
from gateway.settings import Settings
from keys.pii import FieldCipher, PiiDecryptError

DEFAULT_BATCH = 500


class Runtime(Protocol):
    """What the rotation is handed by its caller (``gateway.context.Runtime`` is one)."""

    settings: Settings
    engine: sa.Engine


class DataKeyRotationError(Exception):
    """The rotation cannot go on; the message names table, column and row."""


@dataclass
class RotationReport:
    rewritten: dict[str, int] = field(default_factory=dict)  # "table.column" -> values re-encrypted
    batches: int = 0
    remaining: dict[str, int] = field(default_factory=dict)  # "table.column" -> values under an old key

    @property
    def done(self) -> bool:
        return not any(self.remaining.values())


@dataclass(frozen=True)
class _Target:
    name: str
    raw: sa.TableClause  # the table with encrypted columns typed as plain bytes
    pk: list[str]
    columns: dict[str, str]  # column -> AEAD context


def _targets(metadata: MetaData) -> list[_Target]:
    by_table: dict[str, dict[str, str]] = {}
    for table, column, typ in encrypted_columns(metadata):
        by_table.setdefault(table, {})[column] = typ.context
    out = []
    for name, columns in by_table.items():
        table = metadata.tables[name]
        pk = [c.name for c in table.primary_key.columns]
        if not pk:
            raise DataKeyRotationError(f"table {name} has no primary key: cannot rewrite its PII safely")
        # Plain LargeBinary columns: reading and writing the sealed bytes as they are,
        # bypassing the Encrypted type's own encryption.
        raw = sa.table(
            name,
            *(sa.column(c, table.c[c].type) for c in pk),
            *(sa.column(c, sa.LargeBinary) for c in columns),
            schema=table.schema,
        )
        out.append(_Target(name, raw, pk, columns))
    return out


def _stale(t: _Target, current_id: bytes, column: str) -> sa.ColumnElement[bool]:
    # Bytes 3..6 of a sealed value are its key id (keys.pii); NULLs are never stale.
    return sa.func.substr(t.raw.c[column], 3, 4) != sa.literal(current_id, sa.LargeBinary)


def count_stale(runtime: Runtime, metadata: MetaData | None = None) -> dict[str, int]:
    """Values of each encrypted column not under the current data key."""
    metadata = metadata if metadata is not None else _default_metadata()
    cipher = _cipher(runtime)
    out = {}
    with runtime.engine.connect() as conn:
        for t in _targets(metadata):
            for col in t.columns:
                q = sa.select(sa.func.count()).select_from(t.raw).where(_stale(t, cipher.current_id, col))
                out[f"{t.name}.{col}"] = conn.execute(q).scalar_one()
    return out


def _cipher(runtime: Runtime) -> FieldCipher:
    s = runtime.settings
    return FieldCipher(s.data_key, s.data_key_previous)


def _default_metadata() -> MetaData:
    from gateway.models import Base  # every model module, only when a rotation runs

    return Base.metadata


def rotate_data_key(
    runtime: Runtime,
    *,
    batch_size: int = DEFAULT_BATCH,
    metadata: MetaData | None = None,
    on_batch: Callable[[str, int], None] | None = None,
) -> RotationReport:
    """Rewrite every value under an old data key; ``on_batch(table, rows)`` after each
    committed batch (progress output; tests inject a crash there)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    metadata = metadata if metadata is not None else _default_metadata()
    cipher = _cipher(runtime)
    report = RotationReport()
    for t in _targets(metadata):
        cond = sa.or_(*(_stale(t, cipher.current_id, c) for c in t.columns))
        pk_cols = [t.raw.c[c] for c in t.pk]
        query = (
            sa.select(*pk_cols, *(t.raw.c[c] for c in t.columns))
            .where(cond)
            .order_by(*pk_cols)
            .limit(batch_size)
        )
        last: tuple | None = None
        while True:
            # Keyset pagination: each batch starts after the last row seen, so a big table
            # is scanned once per run, not once per batch.
            q = query if last is None else query.where(sa.tuple_(*pk_cols) > sa.tuple_(*last))
            with runtime.engine.begin() as conn:
                rows = conn.execute(q).mappings().all()
                if not rows:
                    break
                stale = sum(_rewrite_row(conn, t, cipher, row, report) for row in rows)
            last = tuple(rows[-1][c] for c in t.pk)
            report.batches += 1
            if on_batch is not None:
                on_batch(t.name, len(rows))
            if stale == 0:  # the SQL filter and FieldCipher disagree: never loop forever
                raise DataKeyRotationError(f"{t.name}: selected rows hold no value under an old key")
    report.remaining = count_stale(runtime, metadata)
    return report


def _rewrite_row(conn: sa.Connection, t: _Target, cipher: FieldCipher, row, report: RotationReport) -> int:
    """Re-encrypt the stale values of one row; how many were stale."""
    stale = 0
    where = [t.raw.c[c] == row[c] for c in t.pk]
    for col, context in t.columns.items():
        old = row[col]
        if old is None or cipher.is_current(bytes(old)):
            continue
        stale += 1
        try:
            plain = cipher.decrypt(bytes(old), context)
        except PiiDecryptError as exc:
            pk = ", ".join(f"{c}={row[c]}" for c in t.pk)
            raise DataKeyRotationError(
                f"{t.name}.{col} row {pk}: {exc}; add its key to SVCARD_DATA_KEY_PREVIOUS"
            ) from None
        result = conn.execute(
            sa.update(t.raw).where(*where, t.raw.c[col] == old).values({col: cipher.encrypt(plain, context)})
        )
        # rowcount 0: the application rewrote the value meanwhile, under the current key.
        if result.rowcount:
            key = f"{t.name}.{col}"
            report.rewritten[key] = report.rewritten.get(key, 0) + 1
    return stale
