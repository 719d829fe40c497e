"""Fixtures of the service tests: one migrated database per module (SQLite and
PostgreSQL), and a session on it whose work is rolled back after each test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy.orm import Session

from tests.conftest import fresh_pg_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_runtime(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    from gateway import context, migrate
    from gateway import settings as settings_mod

    tmp = tmp_path_factory.mktemp("fdn")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'svcard.db'}"
        else:
            url = stack.enter_context(fresh_pg_database("svcard_fdn"))
        s = settings_mod.load(
            environ={},
            var_dir=tmp / "var",
            database_url=url,
            keys_dir=tmp / "var" / "keys",
            spool_dir=tmp / "var" / "spool",
        )
        rt = context.build(s)
        migrate.upgrade(rt.engine)
        yield rt
        rt.engine.dispose()


@pytest.fixture
def db(shared_runtime) -> Iterator[Session]:
    """A session on the shared database; everything it does is rolled back afterwards."""
    from gateway import context

    context.install(shared_runtime)
    conn = shared_runtime.engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        if outer.is_active:
            outer.rollback()
        conn.close()
        context.install(None)
