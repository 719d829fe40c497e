"""Bulk load of the terminal registry from CSV (``svcard terminals load``, and
``POST /api/terminals/load``).

UTF-8 CSV with a header row and the columns of ``COLUMNS``, in any order. ``district`` is
a code or a name of ``gateway.domain.places`` (``440304`` or ``福田区``, as the bank's
branch list writes it, or ``OUTSIDE``); ``site_name``, ``latitude`` and ``longitude`` may
be blank; ``active`` is ``Y``, ``N`` or blank (``Y``). Each bad row is reported as
``line:<n>:<column>:<rule>`` (the header is line 1) and skipped; the good rows are loaded
in the same transaction. A row matches a registered terminal by ``terminal_id``, so
loading the same file again changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import Terminal
from gateway.services import terminals
from gateway.services.csv_rows import RowError, read_rows

COLUMNS = ("terminal_id", "organisation", "district", "site_name", "latitude", "longitude", "active")
COORDINATE_RE = re.compile(r"-?(0|[1-9][0-9]{0,2})(\.[0-9]{1,6})?")
CHUNK = 500


@dataclass
class LoadReport:
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def skipped_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})


def parse_row(raw: dict[str, str], line: int) -> tuple[terminals.TerminalData | None, list[RowError]]:
    """One CSV row as terminal data (or None) and every problem by column."""
    errs: list[RowError] = []
    g = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    coords: dict[str, Decimal | None] = {}
    for col in ("latitude", "longitude"):
        coords[col] = None
        if g[col] and not COORDINATE_RE.fullmatch(g[col]):
            errs.append(RowError(line, col, "not a number of degrees (up to 6 decimals)"))
        elif g[col]:
            coords[col] = Decimal(g[col])
    if g["active"] not in ("", "Y", "N"):
        errs.append(RowError(line, "active", "must be Y, N or blank"))
    data = terminals.TerminalData(
        terminal_id=g["terminal_id"],
        organisation=g["organisation"],
        district=g["district"],
        site_name=g["site_name"] or None,
        active=g["active"] != "N",
        **coords,
    )
    for p in terminals.problems(data):
        if p.rule == "COORDINATES" and any(e.column in ("latitude", "longitude") for e in errs):
            continue  # already reported
        errs.append(RowError(line, p.field, f"{p.rule} {p.message}"))
    return (None if errs else data), errs


def load_csv(session: Session, path: Path, *, actor: str = "load") -> LoadReport:
    """Load the file in the caller's transaction; the report lists what happened."""
    return load_csv_bytes(session, path.read_bytes(), file_name=path.name, actor=actor)


def load_csv_bytes(session: Session, data: bytes, *, file_name: str, actor: str = "load") -> LoadReport:
    report = LoadReport(file=file_name)
    rows = read_rows(data, file_name, COLUMNS, report.errors)
    seen: dict[str, int] = {}
    chunk: list[tuple[int, terminals.TerminalData]] = []
    for line, raw in rows:
        report.rows += 1
        if raw is None:
            continue
        terminal, errs = parse_row(raw, line)
        if terminal is None:
            report.errors.extend(errs)
            continue
        if terminal.terminal_id in seen:
            report.errors.append(
                RowError(line, "terminal_id", f"duplicate of line {seen[terminal.terminal_id]}")
            )
            continue
        seen[terminal.terminal_id] = line
        chunk.append((line, terminal))
        if len(chunk) >= CHUNK:
            _apply(session, chunk, file_name, report)
            chunk = []
    if chunk:
        _apply(session, chunk, file_name, report)
    report.errors.sort(key=lambda e: e.line)
    session.flush()
    return report


def _apply(
    session: Session, chunk: list[tuple[int, terminals.TerminalData]], file_name: str, report: LoadReport
) -> None:
    ids = [data.terminal_id for _, data in chunk]
    known = {t.terminal_id: t for t in session.scalars(select(Terminal).where(Terminal.terminal_id.in_(ids)))}
    for line, data in chunk:
        terminal = known.get(data.terminal_id)
        if terminal is None:
            terminal = Terminal(terminal_id=data.terminal_id, source=f"load:{file_name}:{line}"[:120])
            terminals.apply(terminal, data)
            session.add(terminal)
            report.created += 1
        elif terminals.apply(terminal, data):
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
