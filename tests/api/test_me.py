"""A volunteer's own view (issue 14): a token bound to one volunteer, issued by the
platform, reads that volunteer's records and nothing else — every other operation of the
OpenAPI document answers 404 to it, never 403 — expires, is rate-limited and audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from gateway.api import volunteer_scope
from tests.api.conftest import bearer

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _view_token(platform, number: str, **body) -> str:
    r = platform.post(f"/api/volunteers/{number}/view-token", body)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["volunteer_no"] == number and r.get_json()["token"].startswith("svv_")
    return r.get_json()["token"]


def test_the_volunteer_reads_their_own_records(client, platform, tokens) -> None:
    v = platform.official()
    token = _view_token(platform, v["number"])
    me = client.get("/api/me", headers=bearer(token))
    assert me.status_code == 200, me.get_json()
    body = me.get_json()
    assert body["volunteer_no"] == v["number"] and body["name"] == "张伟" and body["status"] == "OFFICIAL"
    assert (
        body["service_minutes"] == 600 and body["service_hours"] == 10.0 and body["training_minutes"] == 120
    )
    assert [c["functions"]["TRANSIT"] for c in body["cards"]] == ["OFF"]  # ordered, not yet in use
    [month] = client.get("/api/me/sessions", headers=bearer(token)).get_json()
    assert month["month"] == "2026-11" and month["minutes"] == 600 and month["sessions"][0]["minutes"] == 600
    assert client.get("/api/me/sessions?year=2025", headers=bearer(token)).get_json() == []
    assert [t["course"] for t in client.get("/api/me/training", headers=bearer(token)).get_json()] == [
        "basic"
    ]
    assert client.get("/api/me/donations", headers=bearer(token)).get_json() == []
    assert client.get("/api/me/claims", headers=bearer(token)).get_json() == []
    history = client.get("/api/me/history", headers=bearer(token)).get_json()
    assert [h["event"] for h in history] == ["CREATED"]  # the first card, ordered
    csv_ = client.get("/api/me/export.csv", headers=bearer(token))
    assert csv_.mimetype == "text/csv" and "session,2026-11-01T01:00:00+00:00,600" in csv_.get_data(
        as_text=True
    )
    # each read audited under the platform's token, with the volunteer as subject
    audit = client.get("/api/audit-log?limit=100", headers=bearer(tokens["auditor"])).get_json()["items"]
    own = [a for a in audit if a["role"] == "volunteer"]
    assert len(own) == 8 and {a["subjects"][0] for a in own} == {v["number"]}
    assert {a["token_name"] for a in own} == {own[0]["token_name"]} and own[0][
        "reason"
    ] == "the volunteer's own view"


def _operations(client, tokens) -> list[tuple[str, str]]:
    spec = client.get("/api/openapi.json").get_json()
    out = []
    for path, item in spec["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                out.append((method.upper(), "/api" + re.sub(r"\{[^}]+\}", "1", path)))
    return out


def test_every_other_operation_answers_404_to_the_volunteer_scope(client, platform, tokens) -> None:
    mine = platform.official()
    other = platform.official()
    token = _view_token(platform, mine["number"])
    ops = _operations(client, tokens)
    assert len(ops) > 30
    for method, url in ops:
        for target in (
            url,
            url.replace("/1/", f"/{other['number']}/"),
            url.replace("/1/", f"/{mine['number']}/"),
        ):
            r = client.open(target, method=method, headers=bearer(token), json={})
            if url.startswith("/api/me"):
                assert r.status_code == 200, (method, target, r.get_json())
            else:
                assert r.status_code == 404, (method, target, r.status_code)
                assert r.get_json()["code"] == "not-found"  # the same as a path that does not exist
    assert client.get("/api/nowhere", headers=bearer(token)).status_code == 404


def test_expired_revoked_and_over_the_rate(client, platform, tokens, monkeypatch) -> None:
    from gateway.timeutil import reset_clock, travel_to, utcnow

    v = platform.official()
    token = _view_token(platform, v["number"], minutes=5)
    assert client.get("/api/me", headers=bearer(token)).status_code == 200
    travel_to(utcnow() + timedelta(minutes=6))
    try:
        r = client.get("/api/me", headers=bearer(token))
        assert r.status_code == 401 and "expired" in r.get_json()["detail"]
    finally:
        reset_clock()
    monkeypatch.setattr(volunteer_scope, "RATE", 3)
    fresh = _view_token(platform, v["number"])
    assert [client.get("/api/me", headers=bearer(fresh)).status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]
    limited = client.get("/api/me", headers=bearer(fresh))
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 61
    # revoking the platform token that issued it ends the volunteer's token too
    from gateway.api.tokens import revoke_token
    from gateway.db import transaction

    monkeypatch.setattr(volunteer_scope, "RATE", 60)
    other = _view_token(platform, v["number"])
    with transaction(client.application.extensions["svcard"].sessions) as s:
        revoke_token(s, "platform")
    assert client.get("/api/me", headers=bearer(other)).status_code == 401
