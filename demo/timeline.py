"""The demo's day: the registry's real schedule, on the simulated clock.

Every entry of ``jobs.schedule.entries()`` (each partner's declaration, then the gateway's
own) fires at its cron times in Beijing time, as ``svcard cron`` would fire it; the world
(the platform, the sandbox partners' back offices) acts at its own times in between. A
day is the two merged and sorted; the demo moves the clock to each moment and runs what
is due there through the inline queue.

An entry that fires again before anything else has happened (``szhc-sync`` every ten
minutes through a quiet night) is run once: every job is safe to run twice, and a second
run with nothing new in between would find nothing to do. That keeps a simulated month to
seconds without restating the schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from croniter import croniter

from gateway.partners.registry import Scheduled
from gateway.timeutil import BEIJING


@dataclass(frozen=True)
class Moment:
    at: datetime  # aware, Beijing time
    what: str  # the entry's name, or the world event's
    entry: Scheduled | None = None  # None: a world event
    act: Callable[[], None] | None = None


def firings(entries: Iterable[Scheduled], day: date) -> list[Moment]:
    """Each entry's cron times on ``day`` (Beijing time), as the scheduler would fire them."""
    start = datetime.combine(day, time(0), tzinfo=BEIJING)
    end = start + timedelta(days=1)
    out = []
    for entry in entries:
        it = croniter(entry.cron, start - timedelta(seconds=1))
        while (t := it.get_next(datetime)) < end:
            out.append(Moment(t, entry.name, entry=entry))
    return out


def day_plan(entries: Iterable[Scheduled], day: date, world: Iterable[Moment]) -> list[Moment]:
    """The day's moments in time order (world events first within a minute: a partner's
    file written at 05:00 is there for a job at 05:00), with repeats of an entry that
    nothing has happened since dropped."""
    moments = sorted([*world, *firings(entries, day)], key=lambda m: (m.at, m.entry is not None, m.what))
    out: list[Moment] = []
    ran_since_change: set[str] = set()
    for m in moments:
        if m.entry is None:
            ran_since_change.clear()
        elif m.what in ran_since_change:
            continue
        else:
            # a job can change what another job finds (a fetch applies files the health
            # queue then sends): after it, everything may run again, but not itself
            ran_since_change = {m.what}
        out.append(m)
    return out
