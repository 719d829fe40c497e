"""`svcard worker`, `svcard cron` and `svcard jobs`: the RQ side of the gateway."""

from __future__ import annotations

import os
import time

import click

from gateway import context
from gateway.settings import SettingsError
from jobs import system
from jobs.queue import QUEUE_NAME, enqueue, redis_connection
from jobs.schedule import entries, register_all


def _require_redis(command: str) -> None:
    """Stop with a configuration error (exit 2, via the entry point) when there is no queue."""
    if context.current().settings.redis_url is None:
        raise SettingsError(
            f"SVCARD_REDIS_URL is not set: `svcard {command}` needs Redis (without it jobs run inline)"
        )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--name", default=None, help="Worker name (default: host and pid).")
def worker(burst: bool, name: str | None) -> None:
    """Start an RQ worker on SVCARD_REDIS_URL."""
    # rq and every partner's channels (all the models) load only for the worker, not for
    # `svcard jobs ...`
    from gateway.services import channels
    from jobs.worker import GatewayWorker

    _require_redis("worker")  # fail early on bad settings, before connecting
    channels.load_all()  # once here, not again in every job's forked work horse
    w = GatewayWorker([QUEUE_NAME], connection=redis_connection(), name=name)
    w.work(burst=burst, with_scheduler=False)


@click.command("cron")
@click.option(
    "--tick",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.05, 60),
    help="Longest sleep, in seconds, between looks at the timetable.",
)
def cron(tick: float) -> None:
    """Run the partners' schedule (jobs/schedule.py) with RQ's cron scheduler; any number
    may run at once: each slot is enqueued once (jobs/cron.py)."""
    from jobs.cron import SlotCronScheduler  # rq loads only for the scheduler, not at every start

    _require_redis("cron")
    # RQ reads cron expressions in local time; the schedule is written in Beijing time.
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    scheduler = SlotCronScheduler(redis_connection(), tick=tick)
    register_all(scheduler, QUEUE_NAME)
    click.echo(f"cron: {len(entries())} scheduled jobs, Beijing time")
    scheduler.start()


@click.group("jobs")
def jobs_group() -> None:
    """The job queue."""


@jobs_group.command("schedule")
def show_schedule() -> None:
    """Print the schedule (Beijing time)."""
    for item in entries():
        click.echo(f"{item.cron:<18} {item.name:<28} {item.func}  # {item.why}")


@jobs_group.command("ping")
@click.argument("tag", default="ping")
def ping(tag: str) -> None:
    """Enqueue a trivial job (inline without Redis) and print its handle."""
    handle = enqueue(system.ping, tag)
    click.echo(f"{handle.mode} job {handle.id}: {handle.status} {handle.result or ''}")


cli = [worker, cron, jobs_group]
