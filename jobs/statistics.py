"""The statistics job: keeps the programme's monthly aggregates (gateway.services.statistics)
up to date, so the API and the console never scan the sessions per request."""

from __future__ import annotations

from gateway.services import statistics
from gateway.timeutil import business_day
from jobs.task import Job, task


@task
def refresh(job: Job, today: str | None = None, month: str | None = None) -> dict[str, int]:
    """Recompute ``month`` (YYYY-MM), or by default the current and the previous month as of
    ``today``; answers each month's session count."""
    months = [statistics.parse_month(month)] if month else statistics.months_to_refresh(business_day(today))
    return {f"{m:%Y-%m}": statistics.refresh_month(job.session, m).sessions for m in months}
