"""API test fixtures: an app on the migrated test database and one token per role."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

ROLES = ("platform", "operator", "auditor", "admin")


@pytest.fixture
def app(runtime) -> Flask:
    from gateway.app import create_app

    overrides = {f.name: getattr(runtime.settings, f.name) for f in fields(runtime.settings)}
    app = create_app(overrides)
    yield app
    app.extensions["svcard"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(app: Flask) -> dict[str, str]:
    """role -> bearer token (one token per role, named after it)."""
    from gateway.api.tokens import create_token
    from gateway.db import transaction

    out = {}
    with transaction(app.extensions["svcard"].sessions) as session:
        for role in ROLES:
            out[role] = create_token(session, name=role, role=role)[1]
    return out


def bearer(token: str, **extra: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}
