"""Exchanges, for operators: files in and out with their ACKs and record errors; trigger
a partner's cycle (a job); replay a rejected inbound file with a comment."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from gateway.api.auth import caller
from gateway.api.blueprint import ApiBlueprint
from gateway.api.pagination import page_query
from gateway.api.problems import Problem
from gateway.api.unit import db, ports
from gateway.models.exchange import ExchangeFile
from gateway.services import exchange as exchange_svc
from jobs import exchange as exchange_jobs
from jobs.queue import enqueue
from schemas.api.common import PageArgsSchema
from schemas.api.exchanges import (
    CycleSchema,
    ExchangeFileDetailSchema,
    ExchangeFilePageSchema,
    FileListArgsSchema,
    JobSchema,
    ReplayResultSchema,
    ReplaySchema,
)

blp = ApiBlueprint(
    "exchanges", __name__, description="Files exchanged with the SFTP partners, cycles and replays."
)

READERS = ["operator", "auditor"]
PARTNER = "/exchanges/<file_partner:partner>"
FILE = "/exchanges/files/<int(max=2147483647):file_id>"


def _file(row: ExchangeFile, detail: bool = False) -> dict[str, Any]:
    out = {k: getattr(row, k) for k in ExchangeFileDetailSchema().fields if k != "record_errors"}
    if detail:
        out["record_errors"] = [
            {"line": e.line, "field": e.field, "reason": e.reason} for e in row.record_errors
        ]
    return out


def _get(file_id: int) -> ExchangeFile:
    row = db().get(ExchangeFile, file_id)
    if row is None:
        raise Problem(
            404, "file-not-found", "File not found", "no exchange file with this id", field="file_id"
        )
    return row


@blp.route("/exchanges/files", methods=["GET"], roles=READERS)
@blp.arguments(FileListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ExchangeFilePageSchema)
def list_files(filters: dict[str, Any], page: dict[str, Any]) -> Any:
    """Exchange files, newest first, optionally by partner, direction, type and status."""
    stmt = select(ExchangeFile)
    for name, value in filters.items():
        stmt = stmt.where(getattr(ExchangeFile, name) == value)
    result = page_query(db(), stmt, [ExchangeFile.id], page, lambda f: [f.id], descending=True)
    result["items"] = [_file(f) for f in result["items"]]
    return result


@blp.route(FILE, methods=["GET"], roles=READERS)
@blp.response(200, ExchangeFileDetailSchema)
def get_file(file_id: int) -> Any:
    """One file with its ACK and every record error."""
    return _file(_get(file_id), detail=True)


@blp.route(PARTNER + "/cycle", methods=["POST"], roles=["operator"])
@blp.arguments(CycleSchema)
@blp.response(202, JobSchema)
def trigger_cycle(data: dict[str, Any], partner: str) -> Any:
    """Run the partner's cycle (send what is due, fetch, process, acknowledge) as a job.

    With Redis the job is queued and this answers at once; without, it ran inline and the
    answer says what moved."""
    day: date | None = data["business_date"]
    handle = enqueue(exchange_jobs.run_cycle, partner, day.isoformat() if day else None)
    report = handle.result.lines() if hasattr(handle.result, "lines") else None
    return {"id": handle.id, "func": handle.func, "status": handle.status, "mode": handle.mode,
            "error": handle.error, "report": report}  # fmt: skip


@blp.route(FILE + "/replay", methods=["POST"], roles=["operator"])
@blp.arguments(ReplaySchema)
@blp.response(200, ReplayResultSchema)
def replay_file(data: dict[str, Any], file_id: int) -> Any:
    """Process a rejected inbound file again (its cause fixed), with the operator's comment."""
    row = _get(file_id)
    # The service decides what may be replayed (ReplayRefused: a coded 409 problem).
    outcome = exchange_svc.replay(ports(), file_id, data["comment"], caller().name)
    db().refresh(row)
    return {"outcome": outcome, "file": _file(row, detail=True)}
