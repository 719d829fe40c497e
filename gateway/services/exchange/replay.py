"""Replay, for operators: a rejected inbound file processed again once its cause is
fixed (e.g. the partner's new certificate is now pinned), with the operator's comment."""

from __future__ import annotations

from gateway.db import transaction
from gateway.domain.errors import CodedError, Conflict
from gateway.models.exchange import ExchangeFile
from gateway.services.exchange.apply import process
from gateway.services.ports import Ports
from gateway.timeutil import utcnow


class ReplayRefused(CodedError, Conflict):
    """Only a rejected inbound file can be replayed, and only with a comment."""

    CODE, FIELD = "REPLAY_REFUSED", "file_id"


def replay(ports: Ports, file_id: int, comment: str, actor: str) -> str:
    """Reprocess a rejected inbound file after its cause was fixed. The comment and the
    actor are kept on the file; the file gets a new ACK for the new outcome."""
    if not comment or not comment.strip():
        raise ReplayRefused("a comment is required to replay a file")
    with transaction(ports.sessions) as session:
        row = session.get(ExchangeFile, file_id)
        if row is None or row.direction != "in":
            raise ReplayRefused(f"no inbound file {file_id}")
        if row.status != "rejected":
            raise ReplayRefused(f"file {file_id} is {row.status}; only a rejected file can be replayed")
        note = f"{utcnow():%Y-%m-%dT%H:%M:%SZ} {actor}: {comment.strip()}"
        row.comment = f"{row.comment}\n{note}" if row.comment else note
        row.status, row.ack_status, row.ack_code, row.ack_text, row.ack_file_id = (
            "received",
            None,
            None,
            None,
            None,
        )
        row.detail = None
    return process(ports, file_id)
