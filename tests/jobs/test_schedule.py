"""The schedule resolves: every entry names a module-level job in jobs/ whose signature
takes its keyword arguments, and every cron expression is valid."""

import inspect

import pytest
from croniter import croniter

from jobs.schedule import SCHEDULE, resolve


@pytest.mark.parametrize("item", SCHEDULE, ids=[s.name for s in SCHEDULE])
def test_schedule_entry_resolves(item):
    func = resolve(item.func)
    assert func.__module__.startswith("jobs.")
    inspect.signature(func).bind(**item.kwargs)
    assert croniter.is_valid(item.cron)
    assert item.why


def test_schedule_names_are_unique():
    names = [s.name for s in SCHEDULE]
    assert len(names) == len(set(names))
