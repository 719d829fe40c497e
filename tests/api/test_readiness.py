"""/healthz, /readyz and `svcard doctor` (issue 16): each check against the real thing —
PostgreSQL and Redis made unreachable and back through a loopback proxy, a keystore that
does not open, a database behind its migrations, a spool without room."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from gateway import context, migrate
from gateway.app import create_app
from tests.conftest import REDIS_TEST_URL, fresh_pg_database
from tests.keys.fixtures import PASSPHRASE
from tests.netproxy import TcpProxy


def _app(settings):
    app = create_app({f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)})
    return app, app.test_client()


def _failed(r) -> list[str]:
    assert r.status_code == 503 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
    body = r.get_json()
    assert body["code"] == "not-ready" and r.headers["Retry-After"] == "10"
    return body["failed"]


@pytest.fixture
def ready_settings(settings, ks):
    """The test's settings on a migrated database, with a keystore that opens."""
    s = dataclasses.replace(settings, keys_dir=ks.path, key_passphrase=PASSPHRASE)
    rt = context.build(s)
    migrate.upgrade(rt.engine)
    rt.engine.dispose()
    return s


def test_ready_then_each_check_that_fails_is_named(ready_settings, tmp_path) -> None:
    app, client = _app(ready_settings)
    assert client.get("/healthz").get_json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert [c["name"] for c in r.get_json()["checks"] if c["ok"]] == [
        "database", "migrations", "redis", "keystore", "spool",
    ]  # fmt: skip
    app.extensions["svcard"].engine.dispose()

    wrong = dataclasses.replace(ready_settings, key_passphrase="not-the-passphrase-at-all")
    app, client = _app(wrong)
    assert _failed(client.get("/readyz")) == ["keystore"]
    detail = client.get("/readyz").get_json()["detail"]
    assert "cannot decrypt" in detail and "not-the-passphrase" not in detail  # no secret in it
    app.extensions["svcard"].engine.dispose()

    full = dataclasses.replace(ready_settings, spool_min_free_mb=10_000_000)  # 10 TB
    app, client = _app(full)
    r = client.get("/readyz")
    assert _failed(r) == ["spool"] and "SVCARD_SPOOL_MIN_FREE_MB" in r.get_json()["detail"]
    app.extensions["svcard"].engine.dispose()


def test_a_database_behind_its_migrations_is_not_ready(settings, ks) -> None:
    s = dataclasses.replace(settings, keys_dir=ks.path, key_passphrase=PASSPHRASE)
    rt = context.build(s)
    migrate.upgrade(rt.engine, "0001_foundation")
    rt.engine.dispose()
    app, client = _app(s)
    r = client.get("/readyz")
    assert _failed(r) == ["migrations"] and "svcard db upgrade" in r.get_json()["detail"]
    app.extensions["svcard"].engine.dispose()


def test_postgresql_unreachable_then_back(own_settings, ks) -> None:
    with fresh_pg_database("svcard_ready") as url:
        where = urlsplit(url)
        with TcpProxy(where.hostname, where.port) as proxy:
            via = url.replace(f"{where.hostname}:{where.port}", f"127.0.0.1:{proxy.port}")
            s = own_settings(via, ks.path, PASSPHRASE)
            rt = context.build(s)
            migrate.upgrade(rt.engine)
            rt.engine.dispose()
            app, client = _app(s)
            assert client.get("/readyz").status_code == 200
            proxy.stop()
            r = client.get("/readyz")
            assert _failed(r) == ["database", "migrations"]
            assert "not checked" in r.get_json()["checks"][1]["detail"]
            proxy.start()
            assert client.get("/readyz").status_code == 200  # the pool reconnects
            app.extensions["svcard"].engine.dispose()


def test_redis_unreachable_then_back(ready_settings) -> None:
    where = urlsplit(REDIS_TEST_URL)
    with TcpProxy(where.hostname, where.port) as proxy:
        s = dataclasses.replace(ready_settings, redis_url=f"redis://127.0.0.1:{proxy.port}{where.path}")
        app, client = _app(s)
        r = client.get("/readyz")
        assert r.status_code == 200 and "answers PING" in str(r.get_json()["checks"])
        proxy.stop()
        assert _failed(client.get("/readyz")) == ["redis"]
        proxy.start()
        assert client.get("/readyz").status_code == 200
        app.extensions["svcard"].engine.dispose()


def test_svcard_doctor_prints_a_line_per_check_and_exits_1_on_a_failure(ready_settings) -> None:
    from gateway.cli import svcard

    rt = context.build(ready_settings)
    context.install(rt)
    try:
        ok = CliRunner().invoke(svcard, ["doctor"])
        assert ok.exit_code == 0, ok.output
        assert [line.split()[:2] for line in ok.stdout.splitlines()] == [
            ["ok", "database"], ["ok", "migrations"], ["ok", "redis"], ["ok", "keystore"], ["ok", "spool"],
        ]  # fmt: skip
        context.install(context.build(dataclasses.replace(ready_settings, spool_min_free_mb=10_000_000)))
        bad = CliRunner().invoke(svcard, ["doctor"])
        assert bad.exit_code == 1 and "FAIL spool" in bad.stdout and "1 check(s) failed: spool" in bad.output
    finally:
        context.install(None)
        rt.engine.dispose()
