"""``svcard cron``: RQ's cron scheduler, made safe to run more than once.

RQ's ``CronScheduler`` keeps its timetable in the process: two schedulers (two hosts, or a
restart that overlaps the old one) both find a slot due and both enqueue it. The jobs are
safe to run twice (a database constraint stops a file from going or being applied twice),
but a slot enqueued twice is two of everything in the logs and the metrics, and twice the
load at 06:15. So each slot is claimed in Redis first (``SET NX``, keyed by the entry's
name and the slot's instant): the first scheduler to claim it enqueues, every other one
logs that it saw the slot and skips it. The slot's instant is the cron time, the same in
every scheduler, not the moment a scheduler woke.

Each job carries a retry policy (``jobs.queue.retry_for``) and its slot in ``meta``, so a
job whose worker is killed (RQ's abandoned-job cleanup) runs again, and a log line or a
failed job says which slot it was for.
"""

from __future__ import annotations

import logging
from datetime import datetime

from redis import Redis
from rq.cron import CronJob, CronScheduler

from jobs import queue

log = logging.getLogger("svcard.cron")

# A claim outlives any slot's catching up (a scheduler that was down for a day enqueues a
# slot once when it comes back, not again later).
CLAIM_TTL = 3 * 24 * 3600


def claim_key(name: str, slot: datetime) -> str:
    return f"svcard:cron:slot:{name}:{int(slot.timestamp())}"


class SlotCronJob(CronJob):
    """A cron entry that enqueues a slot only when this scheduler is the first to claim it."""

    scheduler_name = ""

    def enqueue(self, connection: Redis):  # noqa: ANN201 - RQ's own signature
        slot = self.next_enqueue_time
        if slot is None:  # interval entries: the schedule has none (jobs/schedule.py)
            raise ValueError(f"{self.name}: the gateway's schedule has cron entries only")
        key = claim_key(self.name, slot)
        if not connection.set(key, self.scheduler_name, nx=True, ex=CLAIM_TTL):
            winner = connection.get(key)
            log.info(
                "cron: %s slot %s already enqueued by %s",
                self.name,
                slot.isoformat(),
                winner.decode() if winner else "another scheduler",
            )
            return None
        # For this enqueue only: RQ saves job_options with the scheduler's state, as JSON,
        # which a Retry is not.
        self.job_options["meta"] = {"cron": self.name, "slot": slot.isoformat()}
        self.job_options["retry"] = queue.retry_for(self.func)
        try:
            job = super().enqueue(connection)
        finally:
            del self.job_options["meta"], self.job_options["retry"]
        log.info("cron: %s slot %s enqueued as job %s", self.name, slot.isoformat(), job.id)
        return job


class SlotCronScheduler(CronScheduler):
    """RQ's scheduler with slot claims, and a bounded sleep.

    ``tick`` caps the sleep between looks at the timetable (RQ's own cap is 60 s): the
    simulated week of ``svcard scale run`` moves the clock forward by hours at a time,
    and a scheduler must see that within a second or two, not a minute later.
    """

    def __init__(self, connection: Redis, *, tick: float = 60.0, **kwargs) -> None:  # noqa: ANN003
        super().__init__(connection, **kwargs)
        self.tick = tick

    def register(self, func, queue_name, **kwargs) -> CronJob:  # noqa: ANN001, ANN003 - RQ's signature
        job = SlotCronJob(queue_name=queue_name, func=func, **kwargs)
        job.scheduler_name = self.name
        self._cron_jobs.append(job)
        return job

    def calculate_sleep_interval(self) -> float:
        return min(super().calculate_sleep_interval(), self.tick)
