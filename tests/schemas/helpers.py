"""Hand-written partner files for the codec tests."""

from __future__ import annotations

import io
import re
from datetime import date

from schemas import TYPES, FileError, Record, RecordError, read

SWIPE_NAME = "SWIPE_BOCSZ_20270111_001.txt"
SWIPE_HEADER = "H|SWIPE|1.0|BOCSZ|SVA|20270111|001|20270112044501"
SWIPE_LINES = [
    "D|T20270111000000000000001|K7Q2M9X4B1C8D3E5|2019004417|20270111081532|PURCHASE||POS|5812|10",
    "D|T20270111000000000000002|K7Q2M9X4B1C8D3E5|2019004417|20270111123011|PURCHASE||QR|5411|10",
    "D|T20270111000000000000003|K7Q2M9X4B1C8D3E5|2019004417|20270111123507|REVERSAL|T20270111000000000000002|QR|5411|-10",
]
D = date(2027, 1, 11)


def build(header: str, lines: list[str], trailer: str | None = "auto", eol: str = "\r\n") -> bytes:
    """A file from its lines; ``trailer="auto"`` counts the lines and sums the type's
    money field where it is an integer."""
    out = [header, *lines]
    if trailer == "auto":
        rt = TYPES.get(header.split("|")[1])
        total = 0
        if rt is not None and rt.money_field:
            at = rt.field_names.index(rt.money_field) + 1
            for line in lines:
                parts = line.split("|")
                if len(parts) > at and re.fullmatch(r"-?(0|[1-9][0-9]*)", parts[at]):
                    total += int(parts[at])
        trailer = f"T|{len(lines)}|{total}"
    if trailer is not None:
        out.append(trailer)
    return (eol.join(out) + eol).encode("gb18030")


def outcome(
    data: bytes, name: str = SWIPE_NAME, **kwargs
) -> tuple[list[Record], list[RecordError], FileError | None]:
    """Read ``data`` completely: records, record errors, and the whole-file error."""
    records: list[Record] = []
    errors: list[RecordError] = []
    try:
        for item in read(io.BytesIO(data), file_name=name, **kwargs):
            (records if isinstance(item, Record) else errors).append(item)
    except FileError as exc:
        return records, errors, exc
    return records, errors, None


def errors_of(data: bytes, name: str = SWIPE_NAME, **kwargs) -> list[str]:
    records, errors, exc = outcome(data, name, **kwargs)
    assert exc is None, exc
    return [str(e) for e in errors]


def file_code(data: bytes, name: str = SWIPE_NAME, **kwargs) -> str | None:
    return outcome(data, name, **kwargs)[2].code if outcome(data, name, **kwargs)[2] else None
