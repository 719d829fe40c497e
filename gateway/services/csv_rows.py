"""The CSV files operators load (volunteers, terminals): UTF-8 (a BOM allowed), a header
of exactly the documented columns in any order, and each row's problems reported as
``line:<n>:<column>:<rule>`` (the header is line 1) while the other rows go on."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gateway.domain.errors import Invalid


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    rule: str

    def __str__(self) -> str:
        return f"line:{self.line}:{self.column}:{self.rule}"


def read_rows(
    data: bytes, file_name: str, columns: Sequence[str], errors: list[RowError]
) -> Iterator[tuple[int, dict[str, str] | None]]:
    """Every row as (line, cells by column), or (line, None) for a row with more or fewer
    cells than the header (its error appended to ``errors``). A file that is not UTF-8, or
    whose header is not ``columns``, is refused whole (``NOT_UTF8``, ``HEADER``), here and
    now, before the caller reads any row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Invalid("NOT_UTF8", f"{file_name}:{line}:file:bytes not valid UTF-8", "file") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    _check_header(file_name, reader.fieldnames or [], columns)
    return _rows(reader, errors)


def _rows(reader: csv.DictReader, errors: list[RowError]) -> Iterator[tuple[int, dict[str, str] | None]]:
    for raw in reader:
        line = reader.line_num
        if None in raw:  # more cells than header columns
            errors.append(RowError(line, "record", "more fields than the header"))
            yield line, None
        elif None in raw.values():  # fewer cells: one error, not one per missing column
            errors.append(RowError(line, "record", "fewer fields than the header"))
            yield line, None
        else:
            yield line, raw


def _check_header(file_name: str, header: list[str], columns: Sequence[str]) -> None:
    """Exactly the documented columns, in any order: a missing one cannot be read, an
    unknown one would be dropped without a word, and a repeated one would silently keep
    its last copy's value."""
    problems = []
    if missing := [c for c in columns if c not in header]:
        problems.append(f"missing columns {','.join(missing)}")
    if unknown := [c for c in header if c not in columns]:
        problems.append(f"unknown columns {','.join(unknown)}")
    if twice := sorted({c for c in header if header.count(c) > 1}):
        problems.append(f"columns given twice {','.join(twice)}")
    if problems:
        raise Invalid("HEADER", f"{file_name}:1:header:{'; '.join(problems)}", "file")


# A cell that starts like a formula is run by a spreadsheet that opens the export (OWASP,
# "CSV injection"); such text is written with a leading apostrophe, which the spreadsheet
# shows as text. Numbers are written as numbers, so negative figures are untouched.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_cell(value: object) -> object:
    """``value`` as an exported CSV cell: text that a spreadsheet would run is defused."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
