"""Jobs of BOC Insurance (insurer.md): the daily roster and the daily claims sweep.

Both reload their state and are safe to run twice: an answered roster is not sent again
for its day (an unanswered one goes again under the same name), and the sweep stores
claims by number, never twice. Each is a ``jobs.task``: the wrapper builds the ports (the
insurer's client among them) the service is handed.
"""

from __future__ import annotations

from datetime import date

from gateway.partners.insurer import service as insurance
from jobs.task import Job, task


@task
def send_roster(job: Job, business_date: str | None = None) -> list[str]:
    """Send the day's INSROSTER snapshot (ISO date, default today in Beijing)."""
    day = date.fromisoformat(business_date) if business_date else None
    report = insurance.send_roster(job.ports, day)
    if report.error:
        raise RuntimeError(f"{report.name}: {report.error}")  # the job shows as failed
    return report.lines()


@task
def sweep_claims(job: Job) -> list[str]:
    """Fetch the claims changed since the last sweep and check them against the cover."""
    report = insurance.sweep_claims(job.ports)
    if report.error:
        raise RuntimeError(report.error)
    return report.lines()
