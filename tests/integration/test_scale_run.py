"""The production shape, short (issue 17): ``svcard scale run`` over a day and a morning —
four workers, two schedulers, gunicorn, PostgreSQL, a redis-server of its own and the
sandbox partners, every process on one simulated clock — with a worker and its work horse
SIGKILLed inside a bank file's transaction. Each file is sent once and applied once, each
of the ~230 cron slots is enqueued exactly once though two schedulers see it, and the
killed worker's job is found abandoned by RQ and run again to the end.

The week-long run is the same command without the window (docs/deploy.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from demo.scale_procs import missing
from tests.conftest import PG_ADMIN_URL, require_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SVCARD = Path(sys.executable).with_name("svcard")


def test_a_day_on_many_processes_sends_applies_and_enqueues_each_once(tmp_path: Path) -> None:
    lacking = missing()
    if lacking:
        require_service("the scale run's tools", "; ".join(lacking))
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        require_service("PostgreSQL", str(exc).splitlines()[0])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVCARD_")}
    proc = subprocess.run(
        [str(SVCARD), "scale", "run", "--days", "2", "--from", "00:50", "--until", "06:40",
         "--volunteers", "20", "--tick", "0.05", "--pg", PG_ADMIN_URL, "--dir", str(tmp_path / "scale")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-4000:]
    assert out.rstrip().endswith("duplicates or losses: none"), out[-3000:]
    assert "sent twice: 0; answered E06 (a duplicate) by a partner: 0" in out
    assert re.search(r"BOCSZ\s+CARDORDER\s+2", out) and re.search(r"BOCINS\s+INSROSTER\s+2", out), out
    applied = re.search(r"applied: (\d+) files, (\d+) exactly-once gate rows", out)
    assert applied and applied[1] == applied[2] and int(applied[1]) >= 3, out
    slots = re.search(
        r"slots: (\d+) stepped to, (\d+) enqueued exactly once \(cron1 (\d+), cron2 (\d+)\)", out
    )
    assert slots and slots[1] == slots[2] and int(slots[1]) > 200, out
    assert int(slots[3]) + int(slots[4]) == int(slots[1])
    assert "twice 0, never 0, unexpected 0" in out
    killed = re.search(
        r"killed: worker (\S+) \(SIGKILL, with its work horse\) in job (\S+); the job finished", out
    )
    assert killed, out
    # the killed worker's files: each applied once, after the retry
    left = out[out.index("the files not yet applied then:") :].splitlines()[0]
    assert "CARDRESULT" in left and left.count("processed (1 gate row)") == left.count(".p7m"), left
    assert re.search(r"API: [1-9]\d* terminal swipes posted to gunicorn, 0 refused", out), out
