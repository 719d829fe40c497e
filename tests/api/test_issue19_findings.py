"""Issue 19, API findings: the docs page's path parameters (11), the birth date masked
(12), deeply nested JSON bodies (14), security headers on every answer (15)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import application_body, bearer

PROBLEM = "application/problem+json"
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
METHODS = ("get", "put", "post", "patch", "delete")


def _operations(spec: dict[str, Any]):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, item, op


def _effective(item: dict[str, Any], op: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, in) of an operation's parameters: the path item's, overridden by its own."""
    own = [(p["name"], p["in"]) for p in op.get("parameters", [])]
    return [(p["name"], p["in"]) for p in item.get("parameters", []) if (p["name"], p["in"]) not in own] + own


def _placeholders(path: str) -> set[str]:
    return set(re.findall(r"{([^}]+)}", path))


# -- finding 11 ---------------------------------------------------------------------------


@SQLITE_ONLY
def test_finding_11_openapi_operations_declare_their_own_paths_parameters(client) -> None:
    spec = client.get("/api/openapi.json").get_json()
    ops = list(_operations(spec))
    assert len({p for p, *_ in ops if _placeholders(p)}) >= 5  # the check below has paths to bite on
    for path, method, item, op in ops:
        in_path = {name for name, where in _effective(item, op) if where == "path"}
        assert in_path == _placeholders(path), f"{method.upper()} {path}: {sorted(in_path)}"
        for p in item.get("parameters", []) + op.get("parameters", []):
            if p["in"] == "path":
                assert p["required"] is True, f"{method.upper()} {path}: {p['name']}"


def _page_operations(html: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(METHOD, path, [(parameter, in)]) of each operation block of the docs page."""
    body = html.split("<h2>Schemas</h2>", 1)[0]
    out = []
    for block in body.split("<div class='op'>")[1:]:
        method = re.search(r"<span class='m (\w+)'>", block).group(1)
        path = re.search(r"<span class='path'>([^<]+)</span>", block).group(1)
        params = re.findall(r"<tr><td><code>([^<]*)</code></td><td>([^<]*)</td>", block)
        out.append((method, path, params))
    return out


@SQLITE_ONLY
def test_finding_11_docs_page_lists_each_operations_own_parameters(client) -> None:
    spec = client.get("/api/openapi.json").get_json()
    expected = {}
    for path, method, item, op in _operations(spec):
        expected[(method.upper(), path)] = sorted(_effective(item, op))
    page = _page_operations(client.get("/api/docs").get_data(as_text=True))
    # Every operation is on the page (once per tag; each has one).
    assert {(m, p) for m, p, _ in page} == set(expected) and len(page) == len(expected)
    for method, path, params in page:
        assert sorted(params) == expected[(method, path)], f"{method} {path}"
        assert {n for n, where in params if where == "path"} == _placeholders(path), f"{method} {path}"
    # The reported case: a card's page showed the last path's volunteer_no.
    card = dict(((m, p), params) for m, p, params in page)[("GET", "/api/cards/{card_pk}")]
    assert ("card_pk", "path") in card and all(n != "volunteer_no" for n, _ in card)


def test_finding_11_docs_render_uses_each_path_items_parameters() -> None:
    from gateway.api import docs

    def item(name: str) -> dict[str, Any]:
        return {
            "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"tags": ["t"], "responses": {}},
        }

    html = docs.render({"paths": {"/a/{first}": item("first"), "/b/{second}": item("second")}})
    page = {p: params for _, p, params in _page_operations(html)}
    assert page == {"/a/{first}": [("first", "path")], "/b/{second}": [("second", "path")]}


# -- finding 12 ---------------------------------------------------------------------------

MASKED_DATE = "****-**-**"


@SQLITE_ONLY
def test_finding_12_masked_volunteer_hides_the_birth_date(client, tokens, platform) -> None:
    created = platform.post("/api/volunteers", application_body(birth_date="1990-05-17"))
    assert created.status_code == 201 and created.get_json()["birth_date"] == MASKED_DATE
    number = created.get_json()["number"]
    for role in ("platform", "operator", "auditor"):
        one = client.get(f"/api/volunteers/{number}", headers=bearer(tokens[role])).get_json()
        assert one["birth_date"] == MASKED_DATE, role
        page = client.get("/api/volunteers", headers=bearer(tokens[role])).get_json()["items"]
        assert [v["birth_date"] for v in page] == [MASKED_DATE], role
    patched = client.patch(
        f"/api/volunteers/{number}", json={"opt_transit": False}, headers=bearer(tokens["platform"])
    )
    assert patched.status_code == 200 and patched.get_json()["birth_date"] == MASKED_DATE

    # Unmasked with a reason it is the ISO date, and the audit entry names it.
    r = client.get(
        f"/api/volunteers/{number}?unmask=true",
        headers=bearer(tokens["operator"], **{"X-Reason": "ticket 19: check the age"}),
    )
    assert r.status_code == 200 and r.get_json()["birth_date"] == "1990-05-17"
    log = client.get("/api/audit-log", headers=bearer(tokens["auditor"])).get_json()["items"]
    assert "birth_date" in log[-1]["fields_revealed"]

    # The document says so: a PII field whose pattern admits both forms.
    spec = client.get("/api/openapi.json").get_json()
    prop = spec["components"]["schemas"]["Volunteer"]["properties"]["birth_date"]
    assert prop["x-pii"] == "date"
    assert re.fullmatch(prop["pattern"], MASKED_DATE) and re.fullmatch(prop["pattern"], "1990-05-17")


def test_finding_12_mask_of_a_date_shows_none_of_it() -> None:
    from schemas.api.pii import mask

    assert mask("1990-05-17", "date") == MASKED_DATE


# -- finding 14 ---------------------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000  # 200 KB


def _fill(path: str, op: dict[str, Any], item: dict[str, Any]) -> str:
    for p in item.get("parameters", []) + op.get("parameters", []):
        if p["in"] == "path":
            schema = p.get("schema", {})
            value = schema.get("enum", ["1" if schema.get("type") == "integer" else "P000000000001"])[0]
            path = path.replace("{" + p["name"] + "}", str(value))
    return path


def _send(client, tokens, method: str, url: str, op: dict[str, Any], body: bytes, key: str):
    headers = bearer(tokens[op["x-roles"][0]], **{"Content-Type": "application/json"})
    if method == "post":
        headers["Idempotency-Key"] = key
    return client.open(url, method=method.upper(), data=body, headers=headers)


def _assert_invalid_json(r, where: str) -> None:
    assert r.status_code == 400, (where, r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == PROBLEM, where
    problem = r.get_json()
    assert problem["type"].endswith("/invalid-json") and problem["code"] == "invalid-json", where
    assert problem["field"] == "body" and list(problem["errors"]) == ["body"], where
    assert problem["detail"].startswith("body: "), where


@SQLITE_ONLY
def test_finding_14_deeply_nested_json_is_a_400_naming_the_body(client, tokens) -> None:
    assert len(DEEP) == 200_000
    r = _send(client, tokens, "post", "/api/volunteers", {"x-roles": ["platform"]}, DEEP, "deep-1")
    _assert_invalid_json(r, "POST /api/volunteers")
    assert "nested too deeply" in r.get_json()["detail"]
    # Kept for the key like any 4xx: the repeat is the same answer, replayed.
    again = _send(client, tokens, "post", "/api/volunteers", {"x-roles": ["platform"]}, DEEP, "deep-1")
    assert again.status_code == 400 and again.headers.get("Idempotent-Replayed") == "true"


@SQLITE_ONLY
def test_finding_14_every_route_with_a_body_refuses_malformed_json_alike(client, tokens) -> None:
    spec = client.get("/api/openapi.json").get_json()
    with_body = [(path, m, item, op) for path, m, item, op in _operations(spec) if op.get("requestBody")]
    assert len(with_body) >= 8
    n = 0
    for path, method, item, op in with_body:
        url = _fill(path, op, item)
        for body in (DEEP, b'{"name": ', b"\xff\xfe{}"):
            n += 1
            _assert_invalid_json(_send(client, tokens, method, url, op, body, f"k-{n}"), f"{method} {url}")
    # A POST without a body schema ignores the body, deep or not: never a 500.
    for path, method, item, op in _operations(spec):
        if method == "post" and not op.get("requestBody"):
            n += 1
            r = _send(client, tokens, method, _fill(path, op, item), op, DEEP, f"k-{n}")
            assert r.status_code < 500, (path, r.status_code)


@SQLITE_ONLY
def test_finding_14_valid_bodies_still_work_and_fingerprint_alike(platform) -> None:
    import json

    body = application_body()
    first = platform.client.post(
        "/api/volunteers",
        data=json.dumps(body),
        headers=platform.headers("same"),
        content_type="application/json",
    )
    assert first.status_code == 201
    # The same JSON with other spacing and key order is the same request for the key.
    other = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = platform.client.post(
        "/api/volunteers", data=other, headers=platform.headers("same"), content_type="application/json"
    )
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"


# -- finding 15 ---------------------------------------------------------------------------

SECURITY = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _assert_secured(r, where: str) -> None:
    for name, value in SECURITY.items():
        assert r.headers.get(name) == value, (where, name, r.headers.get(name))
    assert "frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", ""), where


@SQLITE_ONLY
def test_finding_15_unmasked_volunteer_is_not_cacheable_nor_sniffable(client, tokens, platform) -> None:
    v = platform.official()
    r = client.get(
        f"/api/volunteers/{v['volunteer_no']}?unmask=true",
        headers=bearer(tokens["operator"], **{"X-Reason": "ticket 19: headers"}),
    )
    assert r.status_code == 200 and r.get_json()["name"] == "张伟"
    _assert_secured(r, "unmasked GET")
    assert r.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


@SQLITE_ONLY
def test_finding_15_every_answer_carries_the_security_headers(client, tokens, platform) -> None:
    op = bearer(tokens["operator"])
    body = application_body()
    created = platform.post("/api/volunteers", body, key="once")
    number = created.get_json()["number"]
    answers = {
        "201 POST": created,
        "201 replay": platform.post("/api/volunteers", body, key="once"),
        "200 list": client.get("/api/volunteers", headers=op),
        "200 whoami": client.get("/api/whoami", headers=op),
        "200 photo": client.get(f"/api/volunteers/{number}/photo", headers=op),
        "401": client.get("/api/whoami"),
        "403": client.get("/api/audit-log", headers=op),
        "404 route": client.get("/api/nowhere", headers=op),
        "404 volunteer": client.get("/api/volunteers/P999999999999", headers=op),
        "405": client.delete("/api/whoami", headers=op),
        "422": platform.post("/api/volunteers", {"name": "x"}),
        "400 json": client.patch(
            f"/api/volunteers/{number}",
            data=b"{",
            headers=bearer(tokens["platform"]),
            content_type="application/json",
        ),
        "openapi": client.get("/api/openapi.json"),
        "healthz": client.get("/healthz"),
        "readyz": client.get("/readyz"),  # 503 here (no keystore): a problem answer, secured too
    }
    assert answers["201 replay"].headers.get("Idempotent-Replayed") == "true"
    for where, r in answers.items():
        _assert_secured(r, where)
    # The docs page keeps its own policy: its one inline style by hash, nothing else loads.
    page = client.get("/api/docs")
    _assert_secured(page, "docs")
    csp = page.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-") and "unsafe-inline" not in csp


@SQLITE_ONLY
def test_finding_15_a_server_error_carries_them_too(app, client) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    # Outside /api/ the access check does not apply, so a bare route can fail on its own.
    app.add_url_rule("/_boom", "boom", boom)
    r = client.get("/_boom")
    assert r.status_code == 500 and r.mimetype == PROBLEM
    _assert_secured(r, "500")
