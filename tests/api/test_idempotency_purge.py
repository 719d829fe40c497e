"""The retention job purges idempotency records older than their window, in batches: a
key within the window still replays its first answer, a purged key is a new request."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from gateway.db import transaction
from gateway.models.api import IdempotencyRecord
from gateway.services import retention
from gateway.timeutil import utcnow
from jobs import retention as retention_job
from tests.api.conftest import bearer


def post_terminal(client, token: str, n: int, key: str):
    body = {"terminal_id": f"POS-P-{n:04d}", "organisation": "福田区义工联", "district": "福田区"}
    return client.post("/api/terminals", json=body, headers=bearer(token, **{"Idempotency-Key": key}))


def test_records_past_the_window_go_and_their_keys_are_new_again(app, client, tokens) -> None:
    op = tokens["operator"]
    for n in range(5):
        assert post_terminal(client, op, n, f"k{n}").status_code == 201
    sessions = app.extensions["svcard"].sessions
    with transaction(sessions) as s:  # three of them a day past the window
        old = utcnow() - retention.IDEMPOTENCY_WINDOW - timedelta(days=1)
        s.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key.in_(["k0", "k1", "k2"]))
            .values(created_at=old)
        )
        # the window's edge, less a minute: kept
        edge = utcnow() - retention.IDEMPOTENCY_WINDOW + timedelta(minutes=1)
        s.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "k3").values(created_at=edge))

    assert retention_job.purge() == {"api_idempotency": 3}
    assert retention_job.purge() == {"api_idempotency": 0}  # twice: nothing more
    with transaction(sessions) as s:
        assert sorted(s.scalars(select(IdempotencyRecord.key))) == ["k3", "k4"]

    kept = post_terminal(client, op, 3, "k3")
    assert kept.status_code == 201 and kept.headers.get("Idempotent-Replayed") == "true"
    # k0's record is gone: the same request is new work again (the terminal now exists)
    again = post_terminal(client, op, 0, "k0")
    assert again.status_code == 409 and "Idempotent-Replayed" not in again.headers


def test_the_purge_goes_in_batches(app, client, tokens) -> None:
    for n in range(5):
        assert post_terminal(client, tokens["operator"], n, f"b{n}").status_code == 201
    sessions = app.extensions["svcard"].sessions
    with transaction(sessions) as s:
        s.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(days=30)))
        assert retention.purge_idempotency(s, utcnow(), batch=2) == 5
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
