"""Jobs of the Health Commission queue (health.md): plan and send what is due.

Safe to run twice and on many workers: requests are claimed with a lease, every attempt
of a request carries its stable requestId, and SZHC answers a repeated id once.
"""

from __future__ import annotations

from gateway.partners.health import reconcile
from gateway.partners.health import service as health
from jobs.task import Job, task


@task
def sync_health(job: Job) -> list[str]:
    """Plan the requests the HEALTH functions call for and send what is due now."""
    return health.sync(job.ports).lines()


@task
def reconcile_health(job: Job, all_cards: bool = False) -> list[str]:
    """health.md, Operations: compare our health-function states with QueryCard, for a
    sample (weekly) or for everyone; an alert per mismatch."""
    return reconcile.reconcile(job.ports, sample=None if all_cards else reconcile.WEEKLY_SAMPLE).lines()
