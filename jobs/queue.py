"""The one enqueue facade.

With ``SVCARD_REDIS_URL`` set, jobs go to RQ and run on ``svcard worker`` processes (many
workers on many hosts share one Redis and one database). Unset, they run inline, in this
process, at the moment they are enqueued: the embedded default of the demo and of a
developer's machine.

Jobs are module-level functions in ``jobs/<area>.py`` taking ids and dates only: they
reload state themselves and are safe to run twice (a database constraint, not timing,
stops a second run from sending or applying a file again).

Enqueue *after* the transaction that made the job necessary has committed
(``enqueue_after_commit``): a worker must never pick up a job for a row it cannot see yet.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from gateway import context
from gateway.logs import bind

log = logging.getLogger("svcard.jobs")
QUEUE_NAME = "svcard"
JOB_TIMEOUT = 3 * 3600  # a 2,000,000-record SWIPE file may take a while on a small host
# Runs of a job after its first, when it fails or its worker dies under it (RQ's
# abandoned-job cleanup requeues it then). Right away: the worker runs no scheduler for
# delayed retries, and the adapters already back off inside a run (SVCARD_RETRY_*).
# Every job is safe to run again (the module's docstring); a job may lower its own with
# ``retries = n`` on its function.
JOB_RETRIES = 2


@dataclass
class JobHandle:
    """What the caller learns of an enqueued job (inline: already finished)."""

    id: str
    func: str
    status: str  # queued | finished | failed
    result: Any = None
    error: str | None = None
    mode: str = "inline"
    extra: dict[str, Any] = field(default_factory=dict)


def func_path(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__name__}"


def redis_connection(url: str | None = None):
    from redis import Redis  # redis loads only when there is a queue, not at every svcard start

    url = url or context.current().settings.redis_url
    if not url:
        raise RuntimeError("SVCARD_REDIS_URL is not set: jobs run inline, there is no queue")
    return Redis.from_url(url)


def rq_queue(url: str | None = None):
    from rq import Queue  # rq loads only when there is a queue (inline jobs never need it)

    return Queue(QUEUE_NAME, connection=redis_connection(url), default_timeout=JOB_TIMEOUT)


def retry_for(func: Callable[..., Any]):
    """The job's RQ retry policy: ``JOB_RETRIES`` more runs unless it declares its own."""
    from rq import Retry  # rq loads only when there is a queue (inline jobs never need it)

    retries = getattr(func, "retries", JOB_RETRIES)
    return Retry(max=retries) if retries else None


def enqueue(func: Callable[..., Any], *args: Any, job_id: str | None = None, **kwargs: Any) -> JobHandle:
    """Run ``func(*args, **kwargs)`` as a job: on RQ when Redis is configured, else inline."""
    if not func.__module__.startswith("jobs.") or "<locals>" in func.__qualname__:
        raise ValueError(f"{func_path(func)}: jobs must be module-level functions in jobs/")
    jid = job_id or uuid.uuid4().hex
    if context.current().settings.redis_url:
        job = rq_queue().enqueue(func, *args, job_id=jid, retry=retry_for(func), **kwargs)
        return JobHandle(id=job.id, func=func_path(func), status="queued", mode="rq")
    try:
        with bind(job_id=jid):
            result = func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a job failure is reported, never lost
        # Inline mode must not hide a failed job: log it with its traceback and report it.
        log.error("job %s %s failed: %s\n%s", jid, func_path(func), exc, traceback.format_exc())
        return JobHandle(id=jid, func=func_path(func), status="failed", error=str(exc))
    return JobHandle(id=jid, func=func_path(func), status="finished", result=result)


def enqueue_after_commit(session: Session, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Enqueue once ``session``'s transaction commits; nothing if it rolls back."""

    def _after_commit(_session: Session) -> None:
        enqueue(func, *args, **kwargs)

    event.listen(session, "after_commit", _after_commit, once=True)


def job_status(job_id: str) -> JobHandle | None:
    """Look up an RQ job (for the API's 'trigger a cycle' answer)."""
    # rq loads only when there is a queue (inline jobs never need it)
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return None
    status = job.get_status(refresh=True)
    return JobHandle(
        id=job.id,
        func=job.func_name,
        status=str(status.value if status else "unknown"),
        result=job.return_value(),
        mode="rq",
    )


def last_line(text: str | None) -> str:
    """What a failure says in one line: its traceback's last (the exception), or ""."""
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""


@dataclass(frozen=True)
class FailedJob:
    id: str
    func: str
    ended_at: Any
    error: str  # the exception's last line (the whole traceback stays in RQ and the logs)


def queue_state(limit: int = 20) -> tuple[dict[str, int], list[FailedJob]] | None:
    """What the RQ queue holds (counts per state) and its newest failed jobs; None when jobs
    run inline (no Redis: nothing is ever queued, a failure is reported where it ran)."""
    if not context.current().settings.redis_url:
        return None
    from rq.job import Job  # rq loads only when there is a queue

    q = rq_queue()
    counts = {
        "queued": q.count,
        "started": q.started_job_registry.count,
        "failed": q.failed_job_registry.count,
        "scheduled": q.scheduled_job_registry.count,
    }
    ids = q.failed_job_registry.get_job_ids(0, limit - 1)
    failed = []
    for job in Job.fetch_many(ids, connection=q.connection):
        if job is None:
            continue
        result = job.latest_result()  # the failed run's record (job.exc_info is deprecated)
        error = last_line(result.exc_string if result else None)
        failed.append(FailedJob(job.id, job.func_name, job.ended_at, error[:300]))
    return counts, failed


def retry_failed(job_id: str, *, actor: str, reason: str) -> None:
    """Put a failed RQ job back on the queue (jobs are safe to run twice); who asked and
    why go in the log and in the job's meta, beside RQ's record of the failure."""
    q = rq_queue()
    job = q.fetch_job(job_id)
    if job is not None:
        job.meta.setdefault("retried_by", []).append({"actor": actor, "reason": reason})
        job.save_meta()
    q.failed_job_registry.requeue(job_id)
    log.info("job %s put back on the queue by %s: %s", job_id, actor, reason)
