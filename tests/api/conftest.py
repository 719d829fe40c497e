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


_seq = iter(range(1, 10**6))


def application_body(**changes: Any) -> dict[str, Any]:
    """A valid application as JSON (a new RIC number each time)."""
    from datetime import date

    from gateway.services.sample import ric

    body = {
        "name": "张伟",
        "id_type": "RIC",
        "id_number": ric("440309", date(1990, 5, 17), 2 * next(_seq) + 1, "M"),  # odd: male
        "gender": "M",
        "birth_date": "1990-05-17",
        "mobile": "13812345678",
        "address": "深圳市福田区深南大道1号",
        "emergency_name": "李娜",
        "emergency_mobile": "13912345678",
        "carrier": "DEBIT",
        "branch_code": "44001",
        "opt_transit": True,
        "opt_health": True,
    }
    body.update(changes)
    return body


class Platform:
    """The volunteer platform's calls, each with a fresh Idempotency-Key."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client, self.token, self._n = client, token, 0

    def headers(self, key: str | None = None) -> dict[str, str]:
        self._n += 1
        return bearer(self.token, **{"Idempotency-Key": key or f"test-{self._n}"})

    def post(self, url: str, body: dict[str, Any] | None = None, key: str | None = None):
        return self.client.post(url, json=body if body is not None else {}, headers=self.headers(key))

    def official(self, **changes: Any) -> dict[str, Any]:
        """Apply, train 2 h, serve 10 h, upload the photo, approve: the approved volunteer."""
        import base64

        from gateway.services.sample import jpeg

        v = self.post("/api/volunteers", application_body(**changes)).get_json()
        n = v["number"]
        assert (
            self.post(f"/api/volunteers/{n}/training", {"course": "basic", "minutes": 120}).status_code == 201
        )
        assert (
            self.post(f"/api/volunteers/{n}/check-in", {"at": "2026-11-01T01:00:00+00:00"}).status_code == 201
        )
        assert (
            self.post(f"/api/volunteers/{n}/check-out", {"at": "2026-11-01T11:00:00+00:00"}).status_code
            == 200
        )
        photo = {"jpeg_base64": base64.b64encode(jpeg()).decode()}
        assert (
            self.client.put(f"/api/volunteers/{n}/photo", json=photo, headers=bearer(self.token)).status_code
            == 200
        )
        approved = self.post(f"/api/volunteers/{n}/approve")
        assert approved.status_code == 200, approved.get_json()
        return approved.get_json()


@pytest.fixture
def platform(client: FlaskClient, tokens: dict[str, str]) -> Platform:
    return Platform(client, tokens["platform"])
