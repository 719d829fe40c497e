"""The gateway's RQ worker disposes the database engine before it forks a work horse, so
the horse never shares the parent's pooled PostgreSQL connection (real Redis, real
PostgreSQL, a real fork)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy import text

from gateway import context
from jobs.worker import GatewayWorker
from tests.conftest import REDIS_TEST_URL

pytestmark = pytest.mark.integration


def backend_pid(out: str) -> None:
    """A job: write the PostgreSQL backend pid of the connection it gets."""
    with context.current().engine.connect() as conn:
        Path(out).write_text(str(conn.scalar(text("SELECT pg_backend_pid()"))))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_worker_disposes_the_engine_before_forking(runtime, redis_url, tmp_path) -> None:
    from redis import Redis

    with runtime.engine.connect() as conn:  # the parent's pooled connection
        parent_pid = conn.scalar(text("SELECT pg_backend_pid()"))
    assert runtime.engine.pool.checkedin() == 1
    redis = Redis.from_url(REDIS_TEST_URL)
    queue = Queue("svcard-test-worker", connection=redis)
    out = tmp_path / "pid"
    queue.enqueue(backend_pid, str(out))
    GatewayWorker([queue], connection=redis).work(burst=True, with_scheduler=False)
    assert out.exists(), "the job did not run"
    assert int(out.read_text()) != parent_pid
    assert runtime.engine.pool.checkedin() == 0  # disposed in the parent before the fork


def log_context(out: str) -> None:
    """A job: write the log context it runs in."""
    import json

    from gateway.logs import current_context

    Path(out).write_text(json.dumps(current_context()))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_record_of_a_job_on_the_worker_carries_its_id(runtime, redis_url, tmp_path) -> None:
    import json

    from redis import Redis

    redis = Redis.from_url(REDIS_TEST_URL)
    queue = Queue("svcard-test-worker", connection=redis)
    out = tmp_path / "context"
    job = queue.enqueue(log_context, str(out))
    GatewayWorker([queue], connection=redis).work(burst=True, with_scheduler=False)
    assert json.loads(out.read_text()) == {"job_id": job.id}
