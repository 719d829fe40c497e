"""Building ACK files (README.md, "Acknowledgement").

One ACK file acknowledges one or more received data files, one ``D`` line each:
``ACCEPTED``; ``PARTIAL`` with ``E07`` and the record errors as
``line:<n>:<field>:<reason>`` joined by ``;``, cut after the last whole entry that fits
in 1,000 characters; or ``REJECTED`` with the whole-file code (E01–E06) and its short
reason as the text. The ACK's business date is the Beijing day it is written; its control
sum is 0.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.errors import FileError, RecordError, clean_reason
from schemas.fields import BEIJING
from schemas.reader import Summary
from schemas.recordtypes import ACK_TEXT_MAX
from schemas.writer import WriteResult, write


@dataclass(frozen=True)
class AckOutcome:
    """The outcome of one received file, as one ACK record."""

    original_file_name: str
    sha256: str
    status: str
    error_code: str | None = None
    error_text: str = ""

    def as_record(self) -> dict[str, Any]:
        return {
            "original_file_name": self.original_file_name,
            "sha256": self.sha256,
            "status": self.status,
            "error_code": self.error_code,
            "error_text": self.error_text,
        }


def error_text(errors: Iterable[RecordError | str], limit: int = ACK_TEXT_MAX) -> str:
    """The entries joined by ``;``, cut after the last whole entry that fits."""
    out: list[str] = []
    size = 0
    for entry in errors:
        s = str(entry)
        extra = len(s) + (1 if out else 0)
        if size + extra > limit:
            break
        out.append(s)
        size += extra
    return ";".join(out)


_ENTRY_RE = re.compile(r"line:(\d+):([^:;]+):([^;]*)")


def parse_error_text(text: str | None) -> list[RecordError]:
    """The ``line:<n>:<field>:<reason>`` entries of a PARTIAL ACK's error text (a partner's
    text that does not follow the format yields only the entries that do)."""
    return [RecordError(int(m[1]), m[2], m[3]) for m in _ENTRY_RE.finditer(text or "")]


def accepted(name: str, sha256: str) -> AckOutcome:
    return AckOutcome(name, sha256, "ACCEPTED")


def partial(name: str, sha256: str, errors: Iterable[RecordError | str]) -> AckOutcome:
    return AckOutcome(name, sha256, "PARTIAL", "E07", error_text(errors))


def rejected(name: str, sha256: str, code: str, reason: str = "") -> AckOutcome:
    """A whole-file rejection; ``reason`` (no field value in it) becomes the text."""
    if code not in ("E01", "E02", "E03", "E04", "E05", "E06"):
        raise ValueError("REJECTED needs a code E01 to E06")
    return AckOutcome(name, sha256, "REJECTED", code, clean_reason(reason)[:ACK_TEXT_MAX])


def outcome_of(
    name: str, sha256: str, *, summary: Summary | None = None, error: FileError | None = None
) -> AckOutcome:
    """The ACK line for a file read to its end (``summary``) or rejected (``error``)."""
    if error is not None:
        return rejected(name, sha256, error.code, error.reason)
    if summary is None:
        raise ValueError("outcome_of needs a summary or an error")
    if summary.error_count:
        return partial(name, sha256, summary.errors)
    return accepted(name, sha256)


def build_ack(
    outcomes: Iterable[AckOutcome],
    *,
    sender: str,
    receiver: str,
    seq: int,
    written_at: datetime,
) -> tuple[bytes, WriteResult]:
    """The ACK file's bytes and write result (``result.file_name`` is its plain name).

    ``written_at`` is when it is written: naive Beijing time, or aware (converted); its
    Beijing date is the business date. A refused outcome (say, a file name with a
    control character) is in ``result.refused`` and the others still go.
    """
    local = written_at.astimezone(BEIJING).replace(tzinfo=None) if written_at.tzinfo else written_at
    local = local.replace(microsecond=0)
    out = io.BytesIO()
    result = write(
        out, "ACK", (o.as_record() for o in outcomes), sender=sender, receiver=receiver,
        business_date=local.date(), seq=seq, created_time=local,
    )  # fmt: skip
    return out.getvalue(), result
