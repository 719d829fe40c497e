"""Issue 19, API findings: the docs page's path parameters (11), the birth date masked
(12), deeply nested JSON bodies (14), security headers on every answer (15)."""

from __future__ import annotations

import re
from typing import Any

import pytest

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
