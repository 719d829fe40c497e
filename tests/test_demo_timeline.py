"""The demo's day is the registry's schedule on the simulated clock (demo.timeline)."""

from __future__ import annotations

from datetime import date

from demo.timeline import Moment, day_plan, firings
from gateway.partners.registry import Scheduled
from gateway.timeutil import BEIJING

DAY = date(2026, 12, 3)  # a Thursday, the 3rd
EVERY_TEN = Scheduled("sync", "*/10 * * * *", "jobs.health.sync_health")
AT_ONE = Scheduled("send", "0 1 * * *", "jobs.exchange.send_scheduled", {"partner": "X"})
ON_THE_3RD = Scheduled("monthly", "0 3 3 * *", "jobs.exchange.send_scheduled")
SUNDAYS = Scheduled("weekly", "0 5 * * 0", "jobs.health.reconcile_health")


def _at(m: Moment) -> str:
    return f"{m.at.astimezone(BEIJING):%H:%M} {m.what}"


def test_firings_are_the_cron_times_of_the_day_in_beijing_time() -> None:
    got = firings([AT_ONE, ON_THE_3RD, SUNDAYS, EVERY_TEN], DAY)
    assert [_at(m) for m in got if m.what != "sync"] == ["01:00 send", "03:00 monthly"]
    assert len([m for m in got if m.what == "sync"]) == 144
    assert firings([ON_THE_3RD], date(2026, 12, 4)) == []


def test_a_repeat_with_nothing_in_between_is_dropped_and_world_events_come_first() -> None:
    world = [Moment(firings([AT_ONE], DAY)[0].at, "platform", act=lambda: None)]
    plan = [_at(m) for m in day_plan([EVERY_TEN, AT_ONE], DAY, world) if m.at.astimezone(BEIJING).hour < 2]
    # the first sync; the platform and the send at 01:00 (the world first); a sync after each
    assert plan == ["00:00 sync", "01:00 platform", "01:00 send", "01:00 sync"]
