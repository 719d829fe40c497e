"""The registry of the platform's POS terminals: operators and admins register, change,
deactivate and load them from CSV; the platform (and the other readers) read them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from gateway.api.auth import caller
from gateway.api.blueprint import ApiBlueprint
from gateway.api.pagination import page_query
from gateway.api.unit import db
from gateway.domain import places
from gateway.domain.service_rules import UnknownDistrict
from gateway.models import Terminal
from gateway.services import terminal_import
from gateway.services import terminals as svc
from schemas.api.common import PageArgsSchema
from schemas.api.terminals import (
    LoadReportSchema,
    TerminalChangeSchema,
    TerminalInSchema,
    TerminalListArgsSchema,
    TerminalLoadSchema,
    TerminalPageSchema,
    TerminalSchema,
)

blp = ApiBlueprint(
    "terminals",
    __name__,
    description="The platform's POS terminals: where service is recorded (district, site, coordinates).",
)

MANAGERS = ["operator", "admin"]
READERS = ["platform", "operator", "auditor", "admin"]
TERMINAL = "/terminals/<string(minlength=1, maxlength=20):terminal_id>"


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@blp.route("/terminals", methods=["GET"], roles=READERS)
@blp.arguments(TerminalListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, TerminalPageSchema)
def list_terminals(filters: dict[str, Any], page: dict[str, Any]) -> Any:
    """Terminals by id, optionally by district, organisation, active."""
    stmt = select(Terminal)
    if "district" in filters:
        found = places.district(filters["district"])
        if found is None:
            raise UnknownDistrict("not a Shenzhen district code or name, nor OUTSIDE")
        stmt = stmt.where(Terminal.district == found.code)
    if "organisation" in filters:
        stmt = stmt.where(Terminal.organisation == filters["organisation"])
    if "active" in filters:
        stmt = stmt.where(Terminal.active.is_(filters["active"]))
    return page_query(db(), stmt, [Terminal.terminal_id], page, lambda t: [t.terminal_id])


@blp.route(TERMINAL, methods=["GET"], roles=READERS)
@blp.response(200, TerminalSchema)
def get_terminal(terminal_id: str) -> Any:
    """A terminal."""
    return svc.get_terminal(db(), terminal_id)


@blp.route("/terminals", methods=["POST"], roles=MANAGERS)
@blp.arguments(TerminalInSchema)
@blp.response(201, TerminalSchema)
def create_terminal(data: dict[str, Any]) -> Any:
    """Register a terminal (409 terminal-exists if its id is taken)."""
    data["latitude"], data["longitude"] = _decimal(data["latitude"]), _decimal(data["longitude"])
    return svc.create_terminal(db(), svc.TerminalData(**data), actor=caller().name)


@blp.route(TERMINAL, methods=["PATCH"], roles=MANAGERS)
@blp.arguments(TerminalChangeSchema)
@blp.response(200, TerminalSchema)
def change_terminal(data: dict[str, Any], terminal_id: str) -> Any:
    """Change a terminal, or deactivate it (``active: false``). Sessions already recorded
    keep the place they were recorded at."""
    for name in ("latitude", "longitude"):
        if name in data:
            data[name] = _decimal(data[name])
    return svc.update_terminal(db(), terminal_id, data, actor=caller().name)


@blp.route("/terminals/load", methods=["POST"], roles=MANAGERS)
@blp.arguments(TerminalLoadSchema)
@blp.response(200, LoadReportSchema)
def load_terminals(data: dict[str, Any]) -> Any:
    """Load terminals from CSV text: each bad row is refused with its line and column, the
    others are registered or updated (a file with a wrong header or not UTF-8: 422)."""
    report = terminal_import.load_csv_bytes(
        db(), data["csv"].encode("utf-8"), file_name=data["file_name"], actor=caller().name
    )
    return {
        "file": report.file,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "errors": [{"line": e.line, "column": e.column, "rule": e.rule} for e in report.errors],
    }
