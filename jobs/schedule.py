"""The schedule of the partners' specs, declared once, run by RQ's cron scheduler.

Times are Beijing times: ``svcard cron`` runs with TZ=Asia/Shanghai, because RQ's cron
scheduler reads cron expressions in the process's local time. A job that runs only on
working days (CARDORDER) is scheduled daily and checks the calendar itself, since the
calendar is data and cron cannot know it.

Running two schedulers is harmless: every job is safe to run twice.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scheduled:
    name: str
    cron: str  # minute hour day month weekday, Beijing time
    func: str  # dotted path of a module-level function in jobs/
    kwargs: dict[str, Any] = field(default_factory=dict)
    why: str = ""


# Filled in as each area lands; every entry names the spec line it implements.
SCHEDULE: list[Scheduled] = []


def resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def register_all(scheduler, queue_name: str) -> None:
    for item in SCHEDULE:
        scheduler.register(resolve(item.func), queue_name, kwargs=item.kwargs, cron=item.cron, name=item.name)
