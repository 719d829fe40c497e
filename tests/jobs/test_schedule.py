"""The schedule resolves: every entry names a module-level job in jobs/ whose signature
takes its keyword arguments, and every cron expression is valid."""

import inspect

import pytest
from croniter import croniter

from jobs.schedule import entries, resolve

SCHEDULE = entries()


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


def test_every_registered_partner_has_its_schedule_entries_in_the_schedule():
    from gateway.partners import registry

    names = {s.name for s in SCHEDULE}
    for partner in registry.partners():
        assert partner.schedule, f"{partner.id} declares no schedule entry"
        assert {s.name for s in partner.schedule} <= names
