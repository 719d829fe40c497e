"""The job wrapper (jobs/task.py): it builds the ports, owns the transaction, enqueues
follow-ups only after the commit, puts the job's partner on its log records, closes the
SOAP clients its ports built, and keeps the job's signature (without its Job)."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import func, select

from gateway import wiring
from gateway.logs import current_context
from gateway.models.exchange import Alert
from gateway.services.alerts import raise_alert
from jobs import exchange as exchange_jobs
from jobs import queue
from jobs.system import ping
from jobs.task import Job, task

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@task
def _raise_then(job: Job, partner: str, fail: bool = False) -> dict[str, object]:
    raise_alert(job.session, "test_kind", partner, "from a job", subject=f"t:{partner}")
    job.then(ping, partner)
    if fail:
        raise RuntimeError("the job fails after its work")
    return {"context": current_context(), "ports": job.ports.settings is not None}


def _alerts(runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "test_kind"))


def test_commit_on_return_then_the_follow_ups(runtime, monkeypatch) -> None:
    enqueued: list[tuple] = []
    monkeypatch.setattr(queue, "enqueue", lambda f, *a, **k: enqueued.append((f, a)))
    result = _raise_then("BOCSZ")
    assert result == {"context": {"partner": "BOCSZ"}, "ports": True}  # the partner on its records
    assert _alerts(runtime) == 1 and enqueued == [(ping, ("BOCSZ",))]
    assert current_context() == {}  # the job's context ended with it


def test_rollback_on_raise_and_no_follow_up(runtime, monkeypatch) -> None:
    enqueued: list[tuple] = []
    monkeypatch.setattr(queue, "enqueue", lambda f, *a, **k: enqueued.append((f, a)))
    with pytest.raises(RuntimeError, match="fails after its work"):
        _raise_then(partner="SZT", fail=True)
    assert _alerts(runtime) == 0 and enqueued == []


def test_inline_jobs_carry_their_job_id(runtime) -> None:
    seen = {}

    def spy(tag: str) -> None:
        seen.update(current_context())

    spy.__module__, spy.__qualname__ = "jobs.system", "spy"  # enqueue takes module-level jobs only
    handle = queue.enqueue(spy, "x", job_id="fixed-id")
    assert handle.status == "finished" and seen == {"job_id": "fixed-id"}


def test_a_job_is_called_without_its_job_and_the_schedule_can_bind_to_it(runtime) -> None:
    params = inspect.signature(exchange_jobs.fetch_and_process).parameters
    assert list(params) == ["partner", "business_date"]
    assert list(inspect.signature(_raise_then).parameters) == ["partner", "fail"]
    inspect.signature(_raise_then).bind("BOCSZ", fail=True)  # as the schedule binds an entry
    assert _raise_then("BOCSZ") == {"context": {"partner": "BOCSZ"}, "ports": True}


def test_the_soap_clients_its_ports_built_are_closed_with_the_job(runtime, monkeypatch) -> None:
    class Client:
        closed = False

        def close(self) -> None:
            self.closed = True

    client = Client()
    monkeypatch.setattr(wiring, "soap_client", lambda ports, partner: client)

    @task
    def calls(job: Job) -> bool:
        return job.ports.client("BOCINS").closed

    assert calls() is False and client.closed
