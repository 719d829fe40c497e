"""`svcard scale run`: the gateway in its production shape on a simulated week
(demo.scale). The command checks what the run needs, prepares its folder and the
simulated clock, and runs the driver again under libfaketime, so that it and every
process it starts read the same clock."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from datetime import date, time
from pathlib import Path

import click

from demo.scale_procs import CLOCK_ENV, FakeClock, missing
from gateway.cli._common import yyyymmdd

MARK = ".svcard-scale"


def _prepare(root: Path) -> Path:
    """The run's folder, emptied (only one a run made), with the clock at real time."""
    if root.exists() and any(root.iterdir()) and not (root / MARK).exists():
        raise click.UsageError(f"{root} exists and is not a scale run's folder: refusing to delete it")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / MARK).write_text("made by svcard scale run; deleted by the next run\n")
    clock = root / "clock"
    clock.write_text("+0.000\n")
    return clock


def _hhmm(value: str, name: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time HH:MM", param_hint=name) from None


@click.group("scale")
def cli() -> None:
    """The gateway in its production shape: many processes on PostgreSQL and Redis."""


@cli.command("run")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 31))
@click.option("--volunteers", default=200, show_default=True, type=click.IntRange(10, 20000))
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 16))
@click.option("--schedulers", default=2, show_default=True, type=click.IntRange(1, 4))
@click.option("--start", default=None, help="First day YYYYMMDD (default: the first Monday two days ahead).")
@click.option(
    "--from", "first", default="00:00", show_default=True, help="The first day's start, HH:MM Beijing."
)
@click.option(
    "--until", "last", default="23:59", show_default=True, help="The last day's end, HH:MM Beijing."
)
@click.option("--kill-day", default=2, show_default=True, type=click.IntRange(0, 31),
              help="The day (1-based) a worker is SIGKILLed inside a bank file; 0: none.")  # fmt: skip
@click.option("--pg", default=lambda: os.environ.get("SVCARD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
              show_default="SVCARD_TEST_PG_URL or the local server", help="PostgreSQL admin URL (a database is made and dropped).")  # fmt: skip
@click.option("--dir", "root", default="var/scale", show_default=True, type=click.Path(path_type=Path))
@click.option("--tick", default=0.2, show_default=True, type=click.FloatRange(0.05, 5),
              help="The schedulers' longest sleep (svcard cron --tick), real seconds.")  # fmt: skip
@click.option("--keep-db", is_flag=True, help="Keep the run's database afterwards.")
def run_cmd(
    days, volunteers, workers, schedulers, start, first, last, kill_day, pg, root, tick, keep_db
) -> None:  # noqa: ANN001
    """Four workers, two schedulers, gunicorn and the sandbox partners through a simulated
    week on the real queue; prints what was sent, applied and enqueued, and the duplicates."""
    lacking = missing()
    if lacking:
        raise click.ClickException("missing: " + "; ".join(lacking))
    from demo.scale import ScaleOptions  # the driver loads for the run, not for --help

    first_day = yyyymmdd(start, "--start")
    if first_day is not None and first_day <= date.today():
        # the run's certificates are made now, and its clock only moves forward
        raise click.BadParameter(f"{first_day:%Y%m%d} is not after today", param_hint="--start")

    o = ScaleOptions(
        dir=root.resolve(), days=days, volunteers=volunteers, workers=workers, schedulers=schedulers,
        start=first_day, first_time=_hhmm(first, "--from"), last_time=_hhmm(last, "--until"),
        kill_day=kill_day, pg=pg, tick=tick, keep_db=keep_db,
    )  # fmt: skip
    clock = _prepare(o.dir)
    payload = {k: (v.isoformat() if isinstance(v, date | time) else str(v) if isinstance(v, Path) else v)
               for k, v in dataclasses.asdict(o).items()}  # fmt: skip
    env = {**os.environ, **FakeClock.env(clock)}
    proc = subprocess.run([sys.executable, "-m", "demo.scale_cli", json.dumps(payload)], env=env)
    raise SystemExit(proc.returncode)


def _drive(payload: str) -> int:
    """The run itself, in the process libfaketime was preloaded into."""
    from demo.scale import ScaleOptions, drive

    raw = json.loads(payload)
    raw["dir"] = Path(raw["dir"])
    raw["start"] = date.fromisoformat(raw["start"]) if raw["start"] else None
    for k in ("first_time", "last_time"):
        raw[k] = time.fromisoformat(raw[k])
    report = drive(ScaleOptions(**raw), say=click.echo)
    for line in report.lines():
        click.echo(line)
    return 1 if report.duplicates() else 0


if __name__ == "__main__":
    if CLOCK_ENV not in os.environ:
        raise SystemExit("run `svcard scale run`: the driver runs under the simulated clock it prepares")
    raise SystemExit(_drive(sys.argv[1]))
