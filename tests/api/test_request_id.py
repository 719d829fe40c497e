"""The request id (issue 16): taken from the caller when it is a safe token, made here when
not, returned on every answer and carried by the request's log records."""

from __future__ import annotations

import logging

import pytest

from tests.api.conftest import bearer

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_the_callers_id_is_kept_and_an_unsafe_one_replaced(client, tokens) -> None:
    kept = client.get("/api/whoami", headers={**bearer(tokens["operator"]), "X-Request-Id": "plat-42.a"})
    assert kept.status_code == 200 and kept.headers["X-Request-Id"] == "plat-42.a"
    unsafe = client.get("/api/whoami", headers={"X-Request-Id": "x y<script>" + "z" * 80})
    assert unsafe.status_code == 401  # a problem answer carries it too
    made = unsafe.headers["X-Request-Id"]
    assert len(made) == 32 and made.isalnum()
    assert client.get("/healthz").headers["X-Request-Id"] != made


def test_the_requests_log_records_carry_its_id(app, client, tokens, caplog) -> None:
    def noisy() -> str:
        logging.getLogger("svcard.test").warning("inside the request")
        return "ok"

    app.add_url_rule("/_noisy", "noisy", noisy)
    with caplog.at_level(logging.WARNING, logger="svcard.test"):
        r = client.get("/_noisy", headers={"X-Request-Id": "rid-1"})
    assert r.headers["X-Request-Id"] == "rid-1"
    [record] = [rec for rec in caplog.records if rec.name == "svcard.test"]
    assert record.request_id == "rid-1"
    logging.getLogger("svcard.test").warning("after it")
    assert caplog.records[-1].request_id is None
