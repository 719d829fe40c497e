"""/metrics after real work (issue 16): a demo-sized run through the real jobs, on SQLite
and PostgreSQL, scraped and checked against the database; two `svcard worker` processes
writing their events at once in multiprocess mode, summed by one scrape."""

from __future__ import annotations

import csv
import dataclasses
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue
from sqlalchemy import func, select

from demo import scale_procs
from demo.simulation import Demo, DemoOptions
from gateway import context, migrate
from gateway import settings as settings_mod
from gateway.app import create_app
from gateway.models import Alert, ExchangeFile
from gateway.services import card_queries
from gateway.services.alerts import raise_alert
from gateway.timeutil import beijing_today
from tests.integration import rq_kit

pytestmark = pytest.mark.integration


def scrape(settings) -> tuple[str, dict[tuple[str, frozenset], float]]:
    app = create_app({f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)})
    try:
        text = app.test_client().get("/metrics").get_data(as_text=True)
    finally:
        app.extensions["svcard"].engine.dispose()
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


def _value(samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def _jobs_run(job: str, partner: str) -> float:
    return sum(
        REGISTRY.get_sample_value("svcard_jobs_total", {"task": job, "partner": partner, "outcome": o}) or 0
        for o in ("finished", "failed")
    )


def test_a_demo_run_scraped_agrees_with_the_database(tmp_path: Path, db_url: str) -> None:
    before = _jobs_run("jobs.health.sync_health", "")
    bank_before = _jobs_run("jobs.exchange.send_scheduled", "BOCSZ")
    demo = Demo(
        DemoOptions(
            volunteers=20,
            days=4,
            start=date(2026, 11, 2),
            demo_dir=tmp_path / "demo",
            quiet=True,
            database_url=db_url,
            identity_cache=tmp_path / "ids",
        ),  # fmt: skip
        echo=lambda _line: None,
    )
    demo.run()
    settings = demo.rt.settings
    with demo.rt.sessions.begin() as s:  # one the demo does not raise: the check is never empty
        raise_alert(s, "file_not_uploaded", "BOCSZ", "a test's own alert", subject="test")
    text, samples = scrape(settings)
    assert _value(samples, "svcard_state_scrape_ok") == 1
    rt = context.build(settings)
    try:
        with rt.sessions() as s:
            files = s.execute(
                select(ExchangeFile.partner, ExchangeFile.direction, ExchangeFile.file_type, ExchangeFile.status,
                       ExchangeFile.ack_code, func.count())
                .group_by(ExchangeFile.partner, ExchangeFile.direction, ExchangeFile.file_type,
                          ExchangeFile.status, ExchangeFile.ack_code)
            ).all()  # fmt: skip
            alerts = Counter(
                (k, p or "")
                for k, p in s.execute(select(Alert.kind, Alert.partner).where(Alert.resolved_at.is_(None)))
            )
            late = len(card_queries.overdue_orders(s, beijing_today()))
            soon = len(card_queries.due_soon_orders(s, beijing_today()))
    finally:
        rt.engine.dispose()
    assert len(files) > 10  # every partner moved files
    for partner, direction, ftype, status, code, n in files:
        labels = {"partner": partner, "direction": direction, "file_type": ftype or "", "status": status,
                  "ack_code": code or ""}  # fmt: skip
        assert _value(samples, "svcard_files_total", **labels) == n, labels
    assert sum(v for (name, _), v in samples.items() if name == "svcard_files_total") == sum(
        r[-1] for r in files
    )
    scraped = {(dict(k)["kind"], dict(k)["partner"]): v for (name, k), v in samples.items()
               if name == "svcard_alerts_open"}  # fmt: skip
    assert scraped == dict(alerts) and ("file_not_uploaded", "BOCSZ") in scraped
    assert _value(samples, "svcard_orders_awaiting_result", when="late") == late
    assert _value(samples, "svcard_orders_awaiting_result", when="due_soon") == soon
    # the events: every health-queue run of the demo went through the job wrapper
    ran = demo.moved["job szhc-sync"]
    assert ran > 4 and _jobs_run("jobs.health.sync_health", "") - before == ran
    assert (
        _jobs_run("jobs.exchange.send_scheduled", "BOCSZ") - bank_before == demo.moved["job bocsz-send"] == 4
    )
    # the insurer's roster went through the metered client, once a day
    assert (
        _value(samples, "svcard_soap_calls_total", partner="BOCINS", operation="upload_roster", outcome="ok")
        >= 4
    )
    # no PII in a metric: no ID number, mobile or name of the demo's volunteers
    with open(tmp_path / "demo" / "import" / "volunteers.csv", encoding="utf-8") as fh:
        people = list(csv.DictReader(fh))
    pii = {p[k] for p in people for k in ("id_number", "mobile", "emergency_mobile", "name") if p[k]}
    assert len(pii) > 30 and [x for x in pii if x in text] == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_workers_write_their_events_at_once_and_one_scrape_sums_them(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    prom = tmp_path / "prom"
    prom.mkdir()
    with scale_procs.private_redis(tmp_path / "redis") as redis_url:
        env = {"SVCARD_VAR_DIR": str(tmp_path / "var"), "SVCARD_DATABASE_URL": db_url,
               "SVCARD_REDIS_URL": redis_url, "SVCARD_LOG_LEVEL": "WARNING"}  # fmt: skip
        settings = settings_mod.load(environ=env)
        rt = context.build(settings)
        migrate.upgrade(rt.engine)
        rt.engine.dispose()
        from redis import Redis

        queue = Queue("svcard", connection=Redis.from_url(redis_url))
        jobs = [queue.enqueue("jobs.sweeps.calendar_next_year", "2026-12-02") for _ in range(40)]
        with rq_kit.workers(env, tmp_path / "logs") as w:
            for name in ("a", "b"):
                w.start(name, burst=True, PROMETHEUS_MULTIPROC_DIR=str(prom))
            assert w.wait("a", 120) == 0 and w.wait("b", 120) == 0, w.log("a") + w.log("b")
        ran_on = {j.worker_name.split("-")[0] for j in (queue.fetch_job(j.id) for j in jobs)}
        assert ran_on == {"a", "b"}  # both workers took jobs, each writing its own files
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(prom))
        _text, samples = scrape(settings)
    labels = {"task": "jobs.sweeps.calendar_next_year", "partner": "", "outcome": "finished"}
    assert _value(samples, "svcard_jobs_total", **labels) == 40
    assert _value(samples, "svcard_job_duration_seconds_count", task=labels["task"], partner="") == 40
    # the queue as Redis holds it: every job done, none failed
    assert _value(samples, "svcard_queue_jobs", queue="svcard", state="failed") == 0
    assert _value(samples, "svcard_queue_jobs", queue="svcard", state="queued") == 0
