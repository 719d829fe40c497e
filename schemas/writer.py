"""Writing a plain partner file: header, CRLF lines, trailer, GB18030.

Every record is turned into text by its field kinds and then checked by the same rules
the reader applies (fast path, then the schema for the reason). A record that breaks a
rule, or holds a value that cannot be written (``|``, a control character, a private-use
character, a wrong Python type, a sub-second time), is left out and reported as
:class:`WriteRefused`; the writer never alters a value, and the other records still go.
The caller keeps a refused record pending for an operator.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from schemas import gb18030
from schemas.errors import WriteRefused
from schemas.fields import BEIJING, TIME, ValueProblem
from schemas.recordtypes import TYPES, Context, RecordType
from schemas.validate import Validator

_FLUSH_EVERY = 4096


@dataclass
class WriteResult:
    file_name: str
    count: int = 0
    control_sum: int = 0
    refused: list[WriteRefused] = field(default_factory=list)


def file_name(file_type: str, sender: str, business_date: date, seq: int, ext: str = "txt") -> str:
    """``<TYPE>_<SENDER>_<YYYYMMDD>_<SEQ>.<ext>`` (add ``.p7m`` once sealed)."""
    return f"{file_type}_{sender}_{business_date:%Y%m%d}_{seq:03d}.{ext}"


class LineWriter:
    """Validates records and writes their ``D`` lines; used by :func:`write` and by
    the CARDORDER package writer."""

    def __init__(self, rt: RecordType, ctx: Context) -> None:
        self.rt = rt
        self.validator = Validator(rt, ctx)
        self.names = set(rt.field_names)

    def line_for(self, index: int, record: Mapping[str, Any]) -> tuple[str, Any] | WriteRefused:
        """``(D line, money value)`` or why the record is refused."""
        rt = self.rt
        rid = record.get(rt.id_field)
        rid = rid if isinstance(rid, str) and rid.isascii() and rid.isalnum() else None
        unknown = set(record) - self.names
        if unknown:
            return WriteRefused(index, rid, "record", "unknown field name")
        texts = []
        for spec in rt.fields:
            value = record.get(spec.name)
            if isinstance(value, datetime) and value.microsecond:
                return WriteRefused(index, rid, spec.name, "time has fractions of a second")
            try:
                texts.append(spec.to_text(value))
            except ValueProblem as exc:
                return WriteRefused(index, rid, spec.name, exc.reason)
        line = "D|" + "|".join(texts)
        data = self.validator.fast(line) if self.validator.fast else None
        if data is None:
            data, problems = self.validator.check_fields(texts)
            if problems:
                fname, reason = problems[0]
                return WriteRefused(index, rid, fname, reason)
        try:
            gb18030.encode(line)
        except UnicodeEncodeError:
            return WriteRefused(index, rid, "record", "not encodable in GB18030")
        assert data is not None
        money = data[rt.money_field] if rt.money_field else 0
        return line, money


def header_line(
    rt: RecordType, sender: str, receiver: str, business_date: date, seq: int, created: datetime
) -> str:
    if (sender, receiver) not in rt.directions:
        raise ValueError(f"{rt.name} does not go from {sender} to {receiver}")
    if not 1 <= seq <= 999:
        raise ValueError("SEQ must be 1 to 999")
    return f"H|{rt.name}|1.0|{sender}|{receiver}|{business_date:%Y%m%d}|{seq:03d}|" + TIME.fmt(
        created.astimezone(BEIJING) if created.tzinfo else created
    )


def write(
    out: IO[bytes],
    file_type: str,
    records: Iterable[Mapping[str, Any]],
    *,
    sender: str,
    receiver: str,
    business_date: date,
    seq: int,
    created_time: datetime,
    branches: frozenset[str] | None = None,
) -> WriteResult:
    """Write one plain file to ``out``; records that cannot be written are refused.

    ``records`` are dicts keyed by the spec's field names with Python values (see
    ``schemas.fields``); a missing key is a blank value. For CARDORDER this writes the
    text file only: use ``schemas.package.write_package`` for the package.
    """
    rt = TYPES[file_type]
    lw = LineWriter(rt, Context.of(business_date, branches))
    result = WriteResult(file_name(rt.name, sender, business_date, seq))
    buf: list[str] = [header_line(rt, sender, receiver, business_date, seq, created_time)]
    for index, record in enumerate(records):
        outcome = lw.line_for(index, record)
        if isinstance(outcome, WriteRefused):
            result.refused.append(outcome)
            continue
        line, money = outcome
        buf.append(line)
        result.count += 1
        result.control_sum += money
        if len(buf) >= _FLUSH_EVERY:
            out.write(gb18030.encode("\r\n".join(buf) + "\r\n"))
            buf.clear()
    buf.append(f"T|{result.count}|{result.control_sum}")
    out.write(gb18030.encode("\r\n".join(buf) + "\r\n"))
    return result


def write_bytes(
    file_type: str, records: Iterable[Mapping[str, Any]], **kwargs: Any
) -> tuple[bytes, WriteResult]:
    """:func:`write` into memory: ``(file bytes, result)``."""
    out = io.BytesIO()
    result = write(out, file_type, records, **kwargs)
    return out.getvalue(), result
