"""Shared fixtures.

Database tests run on SQLite and on PostgreSQL: the ``db_url`` fixture is parametrized
over both. PostgreSQL comes from SVCARD_TEST_PG_URL (default: the local server, trust
auth); each test session creates its own database and drops it at the end. Outside CI a
missing PostgreSQL skips those tests; with CI=true it fails them, so CI never passes by
skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

# The keystore fixtures (our keys, the partners' identities) serve tests/keys/ and the
# openssl interoperability tests alike.
pytest_plugins = ["tests.keys.fixtures"]

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("SVCARD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def require_service(name: str, reason: str) -> None:
    """Skip outside CI; fail in CI (a CI run must never pass by skipping a real server)."""
    if IN_CI:
        pytest.fail(f"{name} is required in CI but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    # A command run in-process configures logging to stderr (as `svcard` does); the next
    # tests must not inherit that handler, or expected refusals print as live errors.
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _clean_svcard_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's own SVCARD_* variables must not leak into tests.
    for key in list(os.environ):
        if key.startswith("SVCARD_") and not key.startswith("SVCARD_TEST_"):
            monkeypatch.delenv(key)


@contextmanager
def fresh_pg_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards; its SQLAlchemy URL (the test skips,
    or fails in CI, when PostgreSQL is unavailable)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        require_service("PostgreSQL", str(exc).splitlines()[0])
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; its SQLAlchemy URL."""
    with fresh_pg_database("svcard_test") as url:
        yield url


def _reset_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'svcard.db'}"
    url = request.getfixturevalue("pg_database")
    _reset_pg(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, db_url: str):
    """Settings for a test: everything under tmp_path, the parametrized database."""
    from gateway import settings as settings_mod

    return settings_mod.load(
        environ={},
        var_dir=tmp_path / "var",
        database_url=db_url,
        keys_dir=tmp_path / "var" / "keys",
        spool_dir=tmp_path / "var" / "spool",
    )


@pytest.fixture
def runtime(settings):
    """A migrated database and the process runtime pointing at it."""
    from gateway import context, migrate

    rt = context.build(settings)
    migrate.upgrade(rt.engine)
    context.install(rt)
    yield rt
    context.install(None)
    rt.engine.dispose()


@pytest.fixture
def own_settings(tmp_path: Path):
    """``own_settings(database_url, keys_dir, passphrase, **fields)``: settings for a gateway
    the test sets up itself, on a database and a keystore of its own (var/ under tmp_path);
    ``environ`` is the environment they are read from (none by default)."""
    from gateway import settings as settings_mod

    def load(database_url: str, keys_dir: Path, passphrase: str, *, environ=None, **fields):
        return settings_mod.load(
            environ=environ or {},
            var_dir=tmp_path / "var",
            database_url=database_url,
            keys_dir=keys_dir,
            key_passphrase=passphrase,
            **fields,
        )

    return load


@pytest.fixture
def own_gateway(own_settings):
    """``own_gateway(database_url, keys_dir, passphrase, partner_urls=..., **fields)``: the
    runtime of such a gateway, with the partners' URLs given, migrated and installed as the
    process runtime; uninstalled and disposed after the test."""
    import dataclasses

    from gateway import context, migrate

    built = []

    def build(database_url: str, keys_dir: Path, passphrase: str, *, partner_urls=None, **fields):
        s = own_settings(database_url, keys_dir, passphrase, **fields)
        if partner_urls:
            s = dataclasses.replace(s, partner_urls={**s.partner_urls, **partner_urls})
        rt = context.build(s)
        built.append(rt)
        migrate.upgrade(rt.engine)
        context.install(rt)
        return rt

    yield build
    context.install(None)
    for rt in built:
        rt.engine.dispose()


@pytest.fixture
def ports(runtime):
    """The runtime's ports (what a job hands its services), closed after the test."""
    from gateway import wiring

    with wiring.ports(runtime) as p:
        yield p


@pytest.fixture
def session(runtime) -> Iterator[Session]:
    s = runtime.sessions()
    yield s
    s.rollback()
    s.close()


REDIS_TEST_URL = os.environ.get("SVCARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@contextmanager
def emptied_redis(url: str) -> Iterator[str]:
    """The real Redis database at ``url``, emptied before and after (a Redis that does not
    answer skips the test, or fails it in CI)."""
    from redis import Redis
    from redis.exceptions import RedisError

    conn = Redis.from_url(url, socket_connect_timeout=3)
    try:
        conn.ping()
    except RedisError as exc:
        require_service("Redis", str(exc))
    conn.flushdb()
    yield url
    conn.flushdb()
    conn.close()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis database for the test, emptied before and after."""
    with emptied_redis(REDIS_TEST_URL) as url:
        yield url
