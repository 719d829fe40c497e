"""The gateway's RQ worker: RQ's forking worker, with the database engine disposed before
each fork (as CKAN's worker does), so a work horse never shares the parent's pooled
connections — two processes on one PostgreSQL socket corrupt each other's protocol."""

from __future__ import annotations

import logging

from rq import Worker

from gateway import context
from gateway.logs import bind
from jobs.queue import last_line

log = logging.getLogger("svcard.jobs")


class GatewayWorker(Worker):
    def fork_work_horse(self, job, queue):  # noqa: ANN001 - RQ's own signature
        rt = context.current()
        # Close the parent's pooled connections: the horse opens its own on first use, and
        # the parent, which runs no job, opens none until the next fork.
        rt.engine.dispose()
        return super().fork_work_horse(job, queue)

    def perform_job(self, job, queue, execution):  # noqa: ANN001, ANN201 - RQ's own signature
        # In the work horse: every record of the job carries its id (gateway.logs).
        with bind(job_id=job.id):
            return super().perform_job(job, queue, execution)

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string="", execution=None):  # noqa: ANN001, ANN201
        # RQ records nothing of a failed run it retries (no result, no failed-registry
        # entry): say it here, or a work horse killed under a job leaves no trace at all.
        if job.should_retry and self._stopped_job_id != job.id:
            reason = last_line(exc_string) or "no reason given"
            log.warning(
                "job %s (%s) failed and runs again, %d more run(s) allowed: %s",
                job.id,
                job.func_name,
                job.retries_left - 1,
                reason,
            )
        return super().handle_job_failure(job, queue, started_job_registry, exc_string, execution)
