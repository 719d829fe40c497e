"""A real Prometheus (Debian's 2.42) on loopback, configured from deploy/prometheus/
prometheus.yml, scrapes a real HTTP server of the app every second and loads rules.yml;
its HTTP API then answers gateway metrics. Bounded: 30 seconds, Prometheus killed at
the end."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from urllib.error import URLError
from urllib.parse import quote
from urllib.request import urlopen

import pytest
import yaml
from werkzeug.serving import make_server

from gateway import metrics
from gateway.app import create_app
from tests.deploy.conftest import PROMETHEUS_DIR, alert_rules

# One database is enough: what is scraped is the exposition, the same on both.
pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

DEADLINE_S = 30


@pytest.fixture
def gateway_address(runtime) -> Iterator[str]:
    """The app (the test's runtime settings) behind a real HTTP server on loopback."""
    app = create_app({f.name: getattr(runtime.settings, f.name) for f in fields(runtime.settings)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="gateway-http", daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    app.extensions["svcard"].engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(target: str) -> dict:
    """deploy/prometheus/prometheus.yml with its svcard-api job pointed at the test's
    server, every second, over plain HTTP; no Alertmanager."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"].update(scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s")
    config["rule_files"] = [str(PROMETHEUS_DIR / name) for name in config["rule_files"]]
    del config["alerting"]
    (api,) = [job for job in config["scrape_configs"] if job["job_name"] == "svcard-api"]
    api.update(scheme="http", static_configs=[{"targets": [target]}])
    config["scrape_configs"] = [api]
    return config


def _get(base: str, path: str) -> dict | None:
    try:
        with urlopen(base + path, timeout=2) as r:  # noqa: S310 - loopback, our own URL
            return json.load(r)
    except (URLError, OSError):
        return None  # not listening yet


def test_prometheus_scrapes_the_gateway(prometheus: str, gateway_address: str, tmp_path: Path) -> None:
    with metrics.timed_job("tests.deploy.probe", None):
        pass  # one run of a job, in this process: the app's /metrics shows its events
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(_config(gateway_address)), encoding="utf-8")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "prometheus.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + DEADLINE_S
        result: list = []
        while not result:
            assert proc.poll() is None, f"prometheus exited {proc.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no scrape within {DEADLINE_S} s:\n{log.read_text()}"
            time.sleep(0.2)
            answer = _get(base, "/api/v1/query?query=" + quote("svcard_state_scrape_ok"))
            result = answer["data"]["result"] if answer else []
        (sample,) = result
        assert sample["metric"] == {
            "__name__": "svcard_state_scrape_ok", "job": "svcard-api", "instance": gateway_address,
        }  # fmt: skip
        assert sample["value"][1] == "1"

        # the gateway's own `job` label (the job's name) next to Prometheus' target label,
        # as rules.yml reads it
        answer = _get(base, "/api/v1/query?query=" + quote('svcard_jobs_total{task="tests.deploy.probe"}'))
        (sample,) = answer["data"]["result"]
        assert sample["metric"]["job"] == "svcard-api" and sample["metric"]["outcome"] == "finished"

        # every rule loaded and evaluated by the real engine without an error
        health: dict[str, str] = {}
        while set(health.values()) != {"ok"}:
            assert time.monotonic() < deadline, f"rules not evaluated: {health}"
            time.sleep(0.2)
            answer = _get(base, "/api/v1/rules?type=alert")
            rules = [r for g in answer["data"]["groups"] for r in g["rules"]] if answer else []
            health = {r["name"]: r["health"] for r in rules}
            assert "err" not in health.values(), [(r["name"], r.get("lastError")) for r in rules]
        assert set(health) == {a["alert"] for a in alert_rules()}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
