"""`svcard tokens`: a created token is printed once, works on the API, is stored only as a
hash, and stops working when revoked."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from tests.api.conftest import bearer


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_create_list_revoke(app, client) -> None:
    from gateway.cli import svcard

    runner = CliRunner()
    created = runner.invoke(svcard, ["tokens", "create", "--role", "auditor", "--name", "audit-team"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("svc_") and len(token) > 40
    assert client.get("/api/whoami", headers=bearer(token)).get_json()["role"] == "auditor"

    with app.extensions["svcard"].engine.connect() as conn:
        stored = conn.execute(
            text("SELECT token_hash FROM api_tokens WHERE name = 'audit-team'")
        ).scalar_one()
    assert token not in stored and len(stored) == 64

    listed = runner.invoke(svcard, ["tokens", "list"])
    assert "audit-team" in listed.stdout and token not in listed.stdout and stored not in listed.stdout

    dup = runner.invoke(svcard, ["tokens", "create", "--role", "admin", "--name", "audit-team"])
    assert dup.exit_code != 0 and "exists already" in dup.output

    revoked = runner.invoke(svcard, ["tokens", "revoke", "audit-team"])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert client.get("/api/whoami", headers=bearer(token)).status_code == 401
    assert runner.invoke(svcard, ["tokens", "revoke", "nobody"]).exit_code != 0
