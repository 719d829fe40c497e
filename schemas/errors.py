"""The two kinds of failure of README.md, and the writer's refusal."""

from __future__ import annotations

from dataclasses import dataclass

FILE_CODES = {
    "E01": "not decryptable",
    "E02": "bad or untrusted signature",
    "E03": "not valid GB18030",
    "E04": "header, trailer, record count, control sum, field count or file name wrong",
    "E05": "wrong sender or receiver",
    "E06": "duplicate",
}

_FORBIDDEN = str.maketrans({";": ",", ":": " ", "|": "/"})


def clean_reason(reason: str) -> str:
    """A reason safe for ``line:<n>:<field>:<reason>`` (no ``;``, ``:`` or ``|``)."""
    return " ".join(reason.translate(_FORBIDDEN).split())


@dataclass(frozen=True, slots=True)
class RecordError:
    """One broken field rule of one record; the other records go on.

    ``line`` is the physical line (header = 1), ``field`` the spec's field name or
    ``record`` for the whole record, ``reason`` short and free of any field value.
    """

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line:{self.line}:{self.field}:{self.reason}"


class FileError(Exception):
    """A whole-file failure (E03, E04 or E05): nothing in the file may be applied."""

    def __init__(self, code: str, reason: str, line: int | None = None) -> None:
        self.code = code
        self.reason = clean_reason(reason)
        self.line = line
        where = f" (line {line})" if line else ""
        super().__init__(f"{code} {self.reason}{where}")


@dataclass(frozen=True, slots=True)
class WriteRefused:
    """A record the writer would not send: it stays pending for an operator.

    ``index`` is the record's position in the input (0-based), ``record_id`` the value
    of its type's id field when that field itself is writable (else ``None``).
    """

    index: int
    record_id: str | None
    field: str
    reason: str

    def __str__(self) -> str:
        who = self.record_id if self.record_id else f"#{self.index}"
        return f"record {who}: {self.field}: {self.reason}"
