"""No token: 401; a role the route does not allow: 403 — for every route of the app's URL
map, so a new route cannot escape. (On one SQLite database for the module: access is
decided before any query of the domain, so the engine does not change the outcome.)"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from tests.api.conftest import ROLES, bearer


def _sample_value(m: re.Match) -> str:
    """A value the path converter accepts: 1 for int, the first choice for any(...), the
    first registered file partner for file_partner."""
    converter, args = m.group(1), m.group(2)
    if converter == "int":
        return "1"
    if converter == "any":
        return args.split(",")[0].strip().strip("'\"")
    if converter == "file_partner":
        from gateway.partners import registry

        return registry.file_partner_ids()[0]
    return "X"


def _api_routes() -> list[tuple[str, str, str, frozenset[str] | None]]:
    """(method, url, endpoint, declared roles) of every non-public /api route."""
    from gateway import context
    from gateway.api.auth import PUBLIC_ENDPOINTS, view_roles
    from gateway.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="svcard-routes-"))
    app = create_app(
        {
            "var_dir": tmp,
            "database_url": f"sqlite:///{tmp / 'routes.db'}",
            "data_key": b"\1" * 32,
            "lookup_key": b"\2" * 32,
            "key_passphrase": "routes-only-passphrase",
        }
    )
    context.install(None)  # collection must not leave a process runtime behind
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = re.sub(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>", _sample_value, rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, url, rule.endpoint, view_roles(app, rule.endpoint)))
    return out


ROUTES = _api_routes()
IDS = [f"{m} {u}" for m, u, _, _ in ROUTES]


def test_the_url_map_has_the_api_routes() -> None:
    assert len(ROUTES) >= 4 and ("GET", "/api/whoami") in {(m, u) for m, u, _, _ in ROUTES}


@pytest.mark.parametrize(("method", "url", "endpoint", "roles"), ROUTES, ids=IDS)
def test_every_route_declares_its_roles(method, url, endpoint, roles) -> None:
    from gateway.api.auth import SCOPES

    assert roles, f"{method} {url} ({endpoint}) has no access policy: declare roles in blp.route"
    assert roles <= set(SCOPES)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One migrated SQLite app and a token per role for the whole module (the routes only
    read or are refused, so the tests cannot disturb each other)."""
    from gateway import context, migrate
    from gateway import settings as settings_mod
    from gateway.api.tokens import create_token
    from gateway.app import create_app
    from gateway.db import transaction

    tmp = tmp_path_factory.mktemp("access")
    s = settings_mod.load(environ={}, var_dir=tmp / "var", database_url=f"sqlite:///{tmp / 'svcard.db'}")
    app = create_app(
        {
            "var_dir": s.var_dir,
            "database_url": s.database_url,
            "data_key": s.data_key,
            "lookup_key": s.lookup_key,
            "key_passphrase": s.key_passphrase,
        }
    )
    migrate.upgrade(app.extensions["svcard"].engine)
    with transaction(app.extensions["svcard"].sessions) as session:
        toks = {role: create_token(session, name=role, role=role)[1] for role in ROLES}
    yield app.test_client(), toks
    context.install(None)
    app.extensions["svcard"].engine.dispose()


@pytest.mark.parametrize(("method", "url", "endpoint", "roles"), ROUTES, ids=IDS)
def test_no_token_401_wrong_role_403(shared, method, url, endpoint, roles) -> None:
    client, tokens = shared
    r = client.open(url, method=method)
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    for role in ROLES:
        # No Idempotency-Key and no body: a POST that gets past access stops at validation,
        # so this test changes nothing.
        r = client.open(url, method=method, headers=bearer(tokens[role]))
        if role in roles:
            assert r.status_code not in (401, 403), f"{role} refused on {method} {url}: {r.get_json()}"
        else:
            assert r.status_code == 403, f"{role} not refused on {method} {url}"
            assert r.get_json()["type"] == "https://svcard.example/problems/forbidden"
