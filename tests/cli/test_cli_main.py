"""The `svcard` entry point itself: what a newcomer sees on a database never migrated."""

from __future__ import annotations

import sys

import pytest

from gateway import context, migrate
from gateway.cli import main


@pytest.fixture
def unmigrated(settings):
    """The runtime on an empty database (no `svcard db upgrade` yet)."""
    rt = context.build(settings)
    context.install(rt)
    yield rt
    context.install(None)
    rt.engine.dispose()


def _run(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["svcard", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return exited.value.code


def test_a_command_on_an_unmigrated_database_says_to_upgrade(unmigrated, monkeypatch, capsys) -> None:
    code = _run(monkeypatch, "cards", "pipeline")
    err = capsys.readouterr().err
    assert code == 2
    assert "run `svcard db upgrade`" in err and "cards" in err  # the missing table is named
    assert "Traceback" not in err

    migrate.upgrade(unmigrated.engine)
    assert _run(monkeypatch, "cards", "pipeline") == 0
    assert "cards: 0" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["worker", "cron"])
def test_worker_and_cron_without_redis_name_the_setting(runtime, monkeypatch, capsys, command) -> None:
    assert _run(monkeypatch, command) == 2
    err = capsys.readouterr().err
    assert f"configuration error: SVCARD_REDIS_URL is not set: `svcard {command}` needs Redis" in err
    assert "Traceback" not in err


def test_an_unreachable_database_is_named_without_its_password(tmp_path, monkeypatch, capsys) -> None:
    from gateway import settings as settings_mod

    s = settings_mod.load(
        environ={}, var_dir=tmp_path / "var", database_url="postgresql://u:s3cret-pw@127.0.0.1:1/db"
    )
    rt = context.build(s)
    context.install(rt)
    try:
        assert _run(monkeypatch, "cards", "pipeline") == 2
    finally:
        context.install(None)
        rt.engine.dispose()
    err = capsys.readouterr().err
    assert "svcard: cannot connect to the database (SVCARD_DATABASE_URL):" in err
    assert "s3cret-pw" not in err and "Traceback" not in err
