"""The API's conventions on its own resources: auth, problems, pagination, idempotency,
the OpenAPI document and the offline documentation page, the append-only audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.api.conftest import bearer

PROBLEM = "application/problem+json"
# For conventions decided before any query, one engine is enough.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_openapi_document_and_docs_page_need_no_token_and_no_network(client) -> None:
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    doc = spec.get_json()
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["paths"]["/api/whoami"]["get"]["x-roles"] == ["admin", "auditor", "operator", "platform"]
    error = doc["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(error) == [PROBLEM]
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/api/whoami" in html and "WhoAmI" in html
    # Nothing is fetched from elsewhere: no script at all, no external stylesheet or image.
    assert "<script" not in html and "src=" not in html and "<link" not in html


def test_missing_bad_and_revoked_tokens_are_401_problems(client, tokens) -> None:
    r = client.get("/api/whoami")
    assert r.status_code == 401 and r.mimetype == PROBLEM
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    body = r.get_json()
    assert body["type"] == "https://svcard.example/problems/unauthorized" and body["status"] == 401
    assert client.get("/api/whoami", headers=bearer("svc_not-a-token")).status_code == 401
    ok = client.get("/api/whoami", headers=bearer(tokens["operator"]))
    assert (
        ok.status_code == 200 and ok.get_json()["role"] == "operator" and ok.get_json()["name"] == "operator"
    )
    tid = ok.get_json()["token_id"]
    revoke = client.post(
        f"/api/tokens/{tid}/revoke", headers=bearer(tokens["admin"], **{"Idempotency-Key": "k1"})
    )
    assert revoke.status_code == 200 and revoke.get_json()["revoked_at"]
    assert client.get("/api/whoami", headers=bearer(tokens["operator"])).status_code == 401


@SQLITE_ONLY
def test_unknown_route_is_404_problem_and_wrong_method_405(client, tokens) -> None:
    r = client.get("/api/nowhere", headers=bearer(tokens["operator"]))
    assert r.status_code == 404 and r.mimetype == PROBLEM
    assert r.get_json()["type"].endswith("/not-found")
    r = client.delete("/api/whoami", headers=bearer(tokens["operator"]))
    assert r.status_code == 405 and r.mimetype == PROBLEM


@SQLITE_ONLY
def test_validation_error_names_the_field(client, tokens) -> None:
    r = client.get("/api/tokens?limit=0", headers=bearer(tokens["admin"]))
    assert r.status_code == 422 and r.mimetype == PROBLEM
    body = r.get_json()
    assert body["type"].endswith("/validation-error")
    assert list(body["errors"]) == ["limit"] and body["detail"].startswith("limit:")


@SQLITE_ONLY
def test_post_without_idempotency_key_is_refused_naming_the_header(client, tokens) -> None:
    r = client.post("/api/tokens/1/revoke", headers=bearer(tokens["admin"]))
    assert r.status_code == 422 and "Idempotency-Key" in r.get_json()["errors"]


def test_cursor_pagination_walks_every_item_once(client, tokens) -> None:
    seen, cursor = [], None
    while True:
        url = "/api/tokens?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=bearer(tokens["admin"])).get_json()
        seen += [t["name"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["platform", "operator", "auditor", "admin"]
    r = client.get("/api/tokens?cursor=garbage", headers=bearer(tokens["admin"]))
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["cursor"]
    # A cursor of one list is refused by another.
    first = client.get("/api/tokens?limit=1", headers=bearer(tokens["admin"])).get_json()["next_cursor"]
    r = client.get(f"/api/audit-log?cursor={first}", headers=bearer(tokens["auditor"]))
    assert r.status_code == 422


def test_idempotent_repeat_returns_the_first_answer_and_reuse_is_refused(app, client, tokens) -> None:
    h = bearer(tokens["admin"], **{"Idempotency-Key": "revoke-auditor-1"})
    first = client.post("/api/tokens/3/revoke", headers=h)
    again = client.post("/api/tokens/3/revoke", headers=h)
    assert again.status_code == first.status_code == 200
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/tokens/2/revoke", headers=h)
    assert other.status_code == 422 and other.get_json()["type"].endswith("/idempotency-key-reused")
    # Keys are per token: another token may use the same key for its own request.
    from gateway.api.tokens import create_token
    from gateway.db import transaction

    with transaction(app.extensions["svcard"].sessions) as session:
        second_admin = create_token(session, name="admin-2", role="admin")[1]
    mine = client.post(
        "/api/tokens/2/revoke", headers=bearer(second_admin, **{"Idempotency-Key": "revoke-auditor-1"})
    )
    assert mine.status_code == 200 and "Idempotent-Replayed" not in mine.headers
    assert mine.get_json()["name"] == "operator"


def test_a_4xx_answer_is_also_replayed_for_its_key(client, tokens) -> None:
    h = bearer(tokens["admin"], **{"Idempotency-Key": "no-such-token"})
    first = client.post("/api/tokens/999/revoke", headers=h)
    assert first.status_code == 404 and first.mimetype == PROBLEM
    again = client.post("/api/tokens/999/revoke", headers=h)
    assert again.status_code == 404 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_audit_log_refuses_update_and_delete_in_the_database(app, tokens) -> None:
    from sqlalchemy.exc import DBAPIError

    engine = app.extensions["svcard"].engine
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO api_audit_log (at, token_id, token_name, role, method, path, fields_revealed,"
                " subjects, reason) VALUES (CURRENT_TIMESTAMP, 1, 'platform', 'platform', 'GET', '/x', 'name',"
                " '1234567890', 'test')"
            )
        )
    for stmt in ("UPDATE api_audit_log SET reason = 'changed'", "DELETE FROM api_audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(stmt))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT reason FROM api_audit_log")).scalar_one() == "test"


@SQLITE_ONLY
def test_oversized_body_is_a_413_problem(client, tokens) -> None:
    big = "A" * (5 * 1024 * 1024)
    r = client.put(
        "/api/volunteers/P000000000001/photo", json={"jpeg_base64": big}, headers=bearer(tokens["platform"])
    )
    assert r.status_code == 413 and r.mimetype == PROBLEM
