"""deploy/: gunicorn's metrics hooks do what docs/metrics.md says, the systemd units pass
systemd-analyze and start real `svcard` commands, each with the metrics directory of its
group, and the environment file's example names only settings the gateway knows."""

from __future__ import annotations

import configparser
import logging
import re
import runpy
import shlex
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import click
import pytest

from gateway import settings as settings_mod
from gateway.cli import svcard
from tests.deploy.conftest import DEPLOY

UNITS = DEPLOY / "systemd"
VENV_BIN = "/opt/svcard/venv/bin/"
API_DIR, JOBS_DIR = "/run/svcard/metrics-api", "/run/svcard/metrics-jobs"


def _gunicorn_conf() -> dict:
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_gunicorn_config_binds_loopback_and_builds_the_app_in_each_worker() -> None:
    conf = _gunicorn_conf()
    assert conf["bind"] == "127.0.0.1:8080"
    assert 1 <= conf["workers"] <= 8 and conf["preload_app"] is False


def test_on_starting_empties_the_metrics_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    for name in ("counter_101.db", "histogram_101.db", "gauge_livesum_102.db"):
        (directory / name).write_bytes(b"\0" * 8)
    (directory / "keep.txt").write_text("not prometheus-client's")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    _gunicorn_conf()["on_starting"](SimpleNamespace(log=logging.getLogger("gunicorn.test")))
    assert sorted(p.name for p in directory.iterdir()) == ["keep.txt"]

    fresh = tmp_path / "not-yet"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(fresh))
    _gunicorn_conf()["on_starting"](SimpleNamespace(log=logging.getLogger("gunicorn.test")))
    assert fresh.is_dir()


def test_on_starting_without_the_directory_warns(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with caplog.at_level(logging.WARNING, logger="gunicorn.test"):
        _gunicorn_conf()["on_starting"](SimpleNamespace(log=logging.getLogger("gunicorn.test")))
    assert "PROMETHEUS_MULTIPROC_DIR is not set" in caplog.text


def test_child_exit_marks_the_worker_dead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("gauge_livesum_4242.db", "gauge_liveall_4242.db", "counter_4242.db", "gauge_livesum_4243.db"):  # fmt: skip
        (tmp_path / name).write_bytes(b"\0" * 8)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    _gunicorn_conf()["child_exit"](SimpleNamespace(), SimpleNamespace(pid=4242))
    # its live gauges go; its counters stay summed (they are what happened); others untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_4243.db"]


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # systemd's keys are case-sensitive
    unit.read(UNITS / name, encoding="utf-8")
    return unit


def _units() -> list[str]:
    return sorted(p.name for p in UNITS.glob("*.service"))


def test_the_four_units() -> None:
    assert _units() == [f"svcard-{n}.service" for n in ("api", "cron", "metrics", "worker@")]


@pytest.mark.parametrize("name", _units())
def test_each_unit_runs_as_svcard_with_the_settings_and_its_metrics_directory(name: str) -> None:
    service = _unit(name)["Service"]
    assert service["User"] == "svcard" and service["EnvironmentFile"] == "/etc/svcard/svcard.env"
    directory = API_DIR if name == "svcard-api.service" else JOBS_DIR
    assert service["Environment"] == f"PROMETHEUS_MULTIPROC_DIR={directory}"
    assert service["RuntimeDirectory"] == directory.removeprefix("/run/")
    # a directory several units share is never removed when one of them stops
    assert (directory == JOBS_DIR) == (service.get("RuntimeDirectoryPreserve") == "yes")
    # only a worker empties the shared directory when it starts (the API's own directory
    # is made afresh at start and emptied by gunicorn's on_starting)
    empties = service.get("ExecStartPre", "")
    if name == "svcard-worker@.service":
        assert shlex.split(empties) == ["/usr/bin/find", JOBS_DIR, "-maxdepth", "1", "-name", "*.db", "-delete"]  # fmt: skip
    else:
        assert empties == ""


@pytest.mark.parametrize("name", [n for n in _units() if n != "svcard-api.service"])
def test_each_svcard_unit_starts_a_real_svcard_command(name: str) -> None:
    words = shlex.split(_unit(name)["Service"]["ExecStart"])
    assert words[0] == VENV_BIN + "svcard"
    ctx = click.Context(svcard)
    cmd: click.Command = svcard
    args = words[1:]
    while isinstance(cmd, click.Group):
        cmd, args = cmd.get_command(ctx, args[0]), args[1:]
        assert cmd is not None, words
    # systemd's specifiers (%H the host, %i the instance) as values it could give
    parsed = cmd.make_context(cmd.name, [re.sub(r"%[A-Za-z]", "x", a) for a in args])
    if name == "svcard-metrics.service":
        assert parsed.params == {"host": "0.0.0.0", "port": 9464, "no_state": True}


def test_the_api_unit_runs_gunicorn_with_the_config_on_wsgi_app() -> None:
    words = shlex.split(_unit("svcard-api.service")["Service"]["ExecStart"])
    assert words == [VENV_BIN + "gunicorn", "-c", "/opt/svcard/app/deploy/gunicorn.conf.py", "wsgi:app"]
    assert re.search(r"^app = create_app\(\)$", (DEPLOY.parent / "wsgi.py").read_text(), re.MULTILINE)


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (a lint of the examples, not a server)")
    # The programs live on the target host, not here: verify the units with /bin/true in
    # their place (systemd-analyze refuses a command it cannot find), a template as an
    # instance.
    for name in _units():
        text = re.sub(re.escape(VENV_BIN) + r"\S+", "/bin/true", (UNITS / name).read_text(encoding="utf-8"))
        (tmp_path / name.replace("@.", "@1.")).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and not done.stderr.strip(), done.stdout + done.stderr


def test_the_environment_example_names_only_known_settings() -> None:
    known = {settings_mod.PREFIX + spec.name for spec in settings_mod.all_specs()}
    names = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "svcard.env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert names and [n for n in names if n not in known] == []
    assert {"SVCARD_ENV", "SVCARD_DATABASE_URL", "SVCARD_REDIS_URL", "SVCARD_DATA_KEY"} <= set(names)
