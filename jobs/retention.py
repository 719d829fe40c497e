"""The retention job: drops what has outlived its use (gateway.services.retention)."""

from __future__ import annotations

from gateway.services import retention
from gateway.timeutil import utcnow
from jobs.task import Job, task


@task
def purge(job: Job) -> dict[str, int]:
    """Idempotency records older than their window; answers the rows dropped per table."""
    return {"api_idempotency": retention.purge_idempotency(job.session, utcnow())}
