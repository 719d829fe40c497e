"""``Idempotency-Key`` on every POST, per token.

The first answer (status, content type, body) is stored in the same transaction as the
work it answers; a repeat with the same key and the same request returns it unchanged
(with ``Idempotent-Replayed: true``); the same key with another method, path or body is
refused (422 ``idempotency-key-reused``). Two concurrent first attempts both run, but only
one commits: the other's transaction fails on the unique (token, key) and it answers
with the stored first answer, so the work is done once. Answers of 5xx are not stored
(their transaction rolled back), so a retry after a server error runs again.
"""

from __future__ import annotations

import hashlib

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.body import canonical_body
from gateway.api.problems import Problem
from gateway.models.api import IdempotencyRecord
from gateway.timeutil import utcnow

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def applies() -> bool:
    return request.method == "POST" and bool(request.headers.get(HEADER))


def fingerprint() -> str:
    """SHA-256 of method, path with query, and the body (JSON canonicalised, so the same
    JSON with other spacing or key order counts as the same body)."""
    body = canonical_body()
    h = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.rstrip("?").encode(), body):
        h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()


def find(session: Session, token_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.token_id == token_id, IdempotencyRecord.key == key)
    )


def replay(record: IdempotencyRecord, print_: str) -> Response:
    """The stored answer, or a problem when the key came with another request."""
    if record.fingerprint != print_:
        raise Problem(
            422,
            "idempotency-key-reused",
            "Idempotency key reused",
            f"{HEADER} {record.key!r} was used for another request "
            f"({record.method} {record.path}); use a new key for a new request",
            field=HEADER,
        )
    resp = Response(record.body, status=record.status, content_type=record.content_type)
    resp.headers[REPLAYED] = "true"
    return resp


def record(session: Session, token_id: int, key: str, print_: str, resp: Response) -> None:
    session.add(
        IdempotencyRecord(
            token_id=token_id,
            key=key,
            fingerprint=print_,
            method=request.method,
            path=request.full_path.rstrip("?")[:1000],
            status=resp.status_code,
            content_type=resp.content_type or "application/json",
            body=resp.get_data(),
            created_at=utcnow(),
        )
    )
