"""The schedule of the partners' specs, declared once, run by RQ's cron scheduler.

Times are Beijing times: ``svcard cron`` runs with TZ=Asia/Shanghai, because RQ's cron
scheduler reads cron expressions in the process's local time. A job that runs only on
working days (CARDORDER) is scheduled daily and checks the calendar itself, since the
calendar is data and cron cannot know it.

Any number of schedulers may run: each slot is claimed in Redis and enqueued once
(``jobs.cron``), and every job is safe to run twice anyway.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from gateway.partners import registry
from gateway.partners.registry import Scheduled

__all__ = ["SYSTEM", "Scheduled", "entries", "register_all", "resolve"]


# The gateway's own entries; each partner's are declared in its package (gateway.partners).
SYSTEM: tuple[Scheduled, ...] = (
    Scheduled(
        "daily-sweeps",
        "30 7 * * *",
        "jobs.sweeps.daily",
        {},
        "bank.md: late and nearly-late orders, cards at risk, open requests; missing ACKs, files not "
        "uploaded, ACKs we still owe",
    ),
    Scheduled(
        "retention",
        "40 4 * * *",
        "jobs.retention.purge",
        {},
        "idempotency records older than their window (gateway.services.retention; docs/deploy.md, Retention)",
    ),
    Scheduled(
        "statistics",
        "50 * * * *",
        "jobs.statistics.refresh",
        {},
        "the programme's monthly statistics (this month and the last) from the sessions, volunteers "
        "and cards, for the API and the console",
    ),
)


def entries() -> list[Scheduled]:
    """The whole schedule: every registered partner's entries, then the gateway's own."""
    out = [item for partner in registry.partners() for item in partner.schedule]
    out.extend(SYSTEM)
    names = [item.name for item in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise registry.RegistryError(f"schedule entries declared twice: {', '.join(twice)}")
    return out


def resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def register_all(scheduler, queue_name: str) -> None:
    for item in entries():
        scheduler.register(resolve(item.func), queue_name, kwargs=item.kwargs, cron=item.cron, name=item.name)
