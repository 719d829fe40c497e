"""The job wrapper (``jobs.task``): a job is called with its ids and dates only; its work
commits when it returns and rolls back when it raises; its follow-ups are enqueued only
after the commit; the SOAP clients its ports built are closed."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import func, select

from gateway import context, migrate, wiring
from gateway import settings as settings_mod
from gateway.db import transaction
from gateway.models.exchange import Alert
from jobs import exchange as exchange_jobs
from jobs import task as task_mod
from jobs.task import Job, task


@pytest.fixture
def runtime(tmp_path):
    rt = context.build(settings_mod.load(environ={}, var_dir=tmp_path / "var"))
    migrate.upgrade(rt.engine)
    context.install(rt)
    yield rt
    context.install(None)
    rt.engine.dispose()


class Client:
    closed = False

    def close(self) -> None:
        self.closed = True


def _alerts(rt) -> int:
    with transaction(rt.sessions) as s:
        return s.scalar(select(func.count()).select_from(Alert))


def _follow_up() -> None:
    """Stands for a job enqueued after another."""


def test_a_job_is_called_without_its_job_argument() -> None:
    params = inspect.signature(exchange_jobs.fetch_and_process).parameters
    assert list(params) == ["partner", "business_date"]


def test_work_commits_on_return_then_the_follow_ups_are_enqueued(runtime, monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(task_mod.queue, "enqueue", lambda f, *a, **k: seen.append((f, a, _alerts(runtime))))
    client = Client()
    monkeypatch.setattr(wiring, "soap_client", lambda ports, partner: client)

    @task
    def job(job: Job, subject: str) -> str:
        job.session.add(Alert(kind="test", partner="SZT", subject=subject, message="m"))
        job.ports.client("BOCINS")
        job.then(_follow_up, subject)
        assert seen == []  # not before the commit
        return subject

    assert job("a") == "a"
    assert seen == [(_follow_up, ("a",), 1)]  # the follow-up sees the committed row
    assert client.closed


def test_a_job_that_raises_leaves_nothing_and_enqueues_nothing(runtime, monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(task_mod.queue, "enqueue", lambda f, *a, **k: seen.append(f))

    @task
    def job(job: Job) -> None:
        job.session.add(Alert(kind="test", partner="SZT", subject="s", message="m"))
        job.session.flush()
        job.then(_follow_up)
        raise RuntimeError("defect")

    with pytest.raises(RuntimeError):
        job()
    assert _alerts(runtime) == 0 and seen == []
