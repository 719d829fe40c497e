"""Two cron schedulers on one real Redis enqueue each slot once (jobs/cron.py).

RQ's scheduler reads the time through ``rq.cron.now``; the test sets that clock, so both
schedulers look at the same slot at the same instant, as two hosts would at 01:00.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue

from jobs import system
from jobs.cron import SlotCronScheduler, claim_key

pytestmark = pytest.mark.integration
SLOT = datetime(2027, 1, 11, 17, 0, tzinfo=UTC)  # 01:00 in Beijing, the next day


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    now = {"at": SLOT - timedelta(minutes=5)}
    monkeypatch.setattr("rq.cron.now", lambda: now["at"])
    return now


def _schedulers(redis_url: str, n: int) -> tuple[Redis, list[SlotCronScheduler]]:
    conn = Redis.from_url(redis_url)
    out = []
    for i in range(n):
        s = SlotCronScheduler(conn, name=f"cron-{i}", tick=1)
        s.register(system.ping, "svcard-cron-test", kwargs={"tag": "slot"}, cron="0 17 * * *", name="ping")
        out.append(s)
    return conn, out


def test_two_schedulers_enqueue_a_slot_once_and_the_next_slot_once_more(
    redis_url: str, clock: dict, caplog: pytest.LogCaptureFixture
) -> None:
    conn, (a, b) = _schedulers(redis_url, 2)
    q = Queue("svcard-cron-test", connection=conn)
    assert a.enqueue_jobs() == [] and b.enqueue_jobs() == []  # not due yet

    clock["at"] = SLOT + timedelta(seconds=1)
    with caplog.at_level(logging.INFO, logger="svcard.cron"):
        a.enqueue_jobs()
        b.enqueue_jobs()
    assert q.count == 1
    job = q.jobs[0]
    assert job.meta == {"cron": "ping", "slot": SLOT.isoformat()}
    assert job.retries_left == 2  # jobs.queue.JOB_RETRIES
    assert conn.get(claim_key("ping", SLOT)) == b"cron-0"
    assert "ping slot 2027-01-11T17:00:00+00:00 already enqueued by cron-0" in caplog.text
    # What `start()` does after each enqueue: the scheduler's state saved as JSON (a Retry
    # left in the entry's options would stop the scheduler here: found by `svcard scale run`).
    a.save()
    b.save()

    # Each scheduler's timetable moved on: the slot is not due again, the next day's is.
    a.enqueue_jobs()
    b.enqueue_jobs()
    assert q.count == 1
    clock["at"] = SLOT + timedelta(days=1, seconds=30)
    b.enqueue_jobs()
    a.enqueue_jobs()
    assert q.count == 2
    assert conn.get(claim_key("ping", SLOT + timedelta(days=1))) == b"cron-1"


def test_a_scheduler_started_late_does_not_enqueue_a_slot_another_already_did(
    redis_url: str, clock: dict
) -> None:
    conn, (a,) = _schedulers(redis_url, 1)
    clock["at"] = SLOT + timedelta(seconds=1)
    a.enqueue_jobs()
    # A second scheduler that started just before the slot and woke after it (a restart
    # overlapping the old process) finds the slot claimed.
    clock["at"] = SLOT - timedelta(seconds=1)
    _, (late,) = _schedulers(redis_url, 1)
    clock["at"] = SLOT + timedelta(seconds=20)
    late.enqueue_jobs()
    assert Queue("svcard-cron-test", connection=conn).count == 1


def test_the_sleep_is_capped_by_the_tick(redis_url: str, clock: dict) -> None:
    _, (a,) = _schedulers(redis_url, 1)
    assert a.calculate_sleep_interval() == 1  # the slot is five minutes away; RQ's cap is 60
