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


# Every entry names the spec line it implements. Times are Beijing times.
SCHEDULE: list[Scheduled] = [
    Scheduled(
        "bocsz-send",
        "0 1 * * *",
        "jobs.exchange.send_scheduled",
        {"partner": "BOCSZ"},
        "bank.md: CARDORDER each working day 01:00, CARDREQ each day 01:00",
    ),
    Scheduled(
        "szt-send",
        "0 2 * * *",
        "jobs.exchange.send_scheduled",
        {"partner": "SZT"},
        "transit.md: TRANSITREQ each day 02:00",
    ),
    Scheduled(
        "szvf-send",
        "0 3 3 * *",
        "jobs.exchange.send_scheduled",
        {"partner": "SZVF"},
        "fund.md: DONATIONEXP on the 3rd for the previous month",
    ),
    Scheduled(
        "bocsz-fetch",
        "15 6 * * *",
        "jobs.exchange.fetch_and_process",
        {"partner": "BOCSZ"},
        "bank.md: CARDRESULT, CARDSTATUS, SWIPE by 06:00; ACKs back",
    ),
    Scheduled(
        "bocsz-fetch-late",
        "0 11,16 * * *",
        "jobs.exchange.fetch_and_process",
        {"partner": "BOCSZ"},
        "late deliveries and the bank's ACKs of our 01:00 files",
    ),
    Scheduled(
        "szt-fetch",
        "15 7,16 * * *",
        "jobs.exchange.fetch_and_process",
        {"partner": "SZT"},
        "transit.md: TRANSITACK by 07:00; ACKs",
    ),
    Scheduled(
        "szvf-fetch",
        "0 10 * * *",
        "jobs.exchange.fetch_and_process",
        {"partner": "SZVF"},
        "fund.md: DONATION by the 10th; ACKs",
    ),
    Scheduled(
        "bocsz-expected",
        "0 8 * * *",
        "jobs.exchange.check_expected",
        {"partner": "BOCSZ"},
        "README.md: an expected file two hours past its deadline raises an alert",
    ),
    Scheduled(
        "szt-expected",
        "0 9 * * *",
        "jobs.exchange.check_expected",
        {"partner": "SZT"},
        "README.md: an expected file two hours past its deadline raises an alert",
    ),
    Scheduled(
        "daily-sweeps",
        "30 7 * * *",
        "jobs.sweeps.daily",
        {},
        "bank.md: late and nearly-late orders, cards at risk, open requests; missing ACKs, files not "
        "uploaded, ACKs we still owe",
    ),
    Scheduled(
        "bocins-roster",
        "0 3 * * *",
        "jobs.insurance.send_roster",
        {},
        "insurer.md: the insured roster (INSROSTER) every day at 03:00",
    ),
    Scheduled(
        "bocins-claims-sweep",
        "30 4 * * *",
        "jobs.insurance.sweep_claims",
        {},
        "insurer.md: claims whose status changed (statusTime filter), checked against the cover",
    ),
    Scheduled(
        "szhc-sync",
        "*/10 * * * *",
        "jobs.health.sync_health",
        {},
        "health.md: enrol/suspend requests sent with their requestId, retried with backoff",
    ),
    Scheduled(
        "szvf-send-late",
        "0 3 4-28 * *",
        "jobs.donations.send_expected",
        {},
        "fund.md: a month whose SWIPE days completed after the 3rd goes as soon as it is complete",
    ),
    Scheduled(
        "szvf-donation-watch",
        "0 2 11 * *",
        "jobs.donations.check_donation_received",
        {},
        "fund.md: DONATION by the 10th; README.md: a missing expected file raises an alert",
    ),
]


def resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def register_all(scheduler, queue_name: str) -> None:
    for item in SCHEDULE:
        scheduler.register(resolve(item.func), queue_name, kwargs=item.kwargs, cron=item.cron, name=item.name)
