"""What ``svcard scale run`` found: files sent and applied, slots enqueued, the killed
worker's job, and every duplicate (``Report.duplicates``: none is the pass)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from gateway import context
from gateway.db import transaction
from gateway.models import ExchangeFile, FileApplication

ENQUEUED = re.compile(r"cron: (\S+) slot (\S+) enqueued as job (\S+)")
SEEN = re.compile(r"cron: (\S+) slot (\S+) already enqueued by (\S+)")


@dataclass
class Slots:
    expected: int = 0
    once: int = 0
    twice: list[str] = field(default_factory=list)  # enqueued by more than one scheduler
    missing: list[str] = field(default_factory=list)  # never enqueued
    unexpected: list[str] = field(default_factory=list)  # enqueued, not a slot the run stepped to
    skipped_by_other: int = 0  # a scheduler saw the slot already claimed
    by_scheduler: Counter = field(default_factory=Counter)


def read_cron_logs(logs: list[str], expected: list[tuple[str, datetime]]) -> Slots:
    """Each scheduler's log lines of ``jobs.cron``, against the slots the run stepped to."""
    want = {(name, at.astimezone(UTC).isoformat()) for name, at in expected}
    enqueued: Counter = Counter()
    out = Slots(expected=len(want))
    for i, text in enumerate(logs, start=1):
        for name, slot, _job in ENQUEUED.findall(text):
            enqueued[(name, slot)] += 1
            out.by_scheduler[f"cron{i}"] += 1
        out.skipped_by_other += len(SEEN.findall(text))
    for key, n in sorted(enqueued.items()):
        if key not in want:
            out.unexpected.append(f"{key[0]} {key[1]}")
        elif n == 1:
            out.once += 1
        else:
            out.twice.append(f"{key[0]} {key[1]} x{n}")
    out.missing = sorted(f"{n} {s}" for n, s in want - set(enqueued))
    return out


@dataclass
class Report:
    sent: list[tuple[str, str, int]]
    sent_twice: int
    partner_duplicates: int  # our files a partner answered E06 (already received)
    inbound: dict[str, int]
    applications: int
    applied: int
    slots: Slots
    kill: Any
    killed_status: str | None
    killed_files: list[tuple[str, str, int]]  # name, status, gate rows
    failed_jobs: list[str]
    dead: list[str]
    posted: int
    refused: list[str]
    logs: Path

    def duplicates(self) -> list[str]:
        """Everything that went twice or was lost: empty is the pass."""
        out = []
        if self.sent_twice:
            out.append(f"{self.sent_twice} outbound files recorded twice")
        if self.partner_duplicates:
            out.append(f"{self.partner_duplicates} of our files answered E06 by the partner")
        if self.applications != self.applied:
            out.append(f"{self.applications} file applications for {self.applied} applied files")
        out += [f"slot enqueued twice: {s}" for s in self.slots.twice]
        out += [f"slot never enqueued: {s}" for s in self.slots.missing]
        if self.kill is not None and not (self.killed_status or "").startswith("finished"):
            out.append(f"the killed worker's job {self.kill.job_id} ended {self.killed_status}")
        for name, status, gates in self.killed_files:
            if gates != 1 or status not in ("processed", "partial"):
                out.append(f"a file the killed worker left: {name} {status}, {gates} gate rows")
        out += [f"process {d} exited on its own" for d in self.dead]
        return out

    def lines(self) -> list[str]:
        s = self.slots
        out = [
            "sent (each file once: one row per partner, type, day and SEQ):",
            *(f"  {p:<6} {t:<12} {n}" for p, t, n in self.sent),
            f"sent twice: {self.sent_twice}; answered E06 (a duplicate) by a partner: {self.partner_duplicates}",
            "received: " + ", ".join(f"{k} {v}" for k, v in sorted(self.inbound.items())),
            f"applied: {self.applied} files, {self.applications} exactly-once gate rows",
            f"slots: {s.expected} stepped to, {s.once} enqueued exactly once "
            f"({', '.join(f'{k} {v}' for k, v in sorted(s.by_scheduler.items()))}); "
            f"{s.skipped_by_other} times a scheduler found the slot already claimed; "
            f"twice {len(s.twice)}, never {len(s.missing)}, unexpected {len(s.unexpected)}",
        ]
        if self.kill is not None:
            files = ", ".join(f"{n} {st} ({g} gate row)" for n, st, g in self.killed_files) or "none"
            out.append(
                f"killed: worker {self.kill.worker} (SIGKILL, with its work horse) in job {self.kill.job_id}; "
                f"the job {self.killed_status} (RQ's abandoned-job cleanup and the job's retry); the files "
                f"not yet applied then: {files}"
            )
        out.append(f"API: {self.posted} terminal swipes posted to gunicorn, {len(self.refused)} refused")
        out += [f"  refused {r}" for r in self.refused[:5]]
        out.append(f"failed jobs left: {len(self.failed_jobs)}; logs in {self.logs}")
        dup = self.duplicates()
        out.append("duplicates or losses: " + ("; ".join(dup) if dup else "none"))
        return out


def collect(run, root: Path) -> Report:  # noqa: ANN001 - a demo.scale.Run
    """The report of a run that has ended its last moment, from its database, Redis and logs."""
    rt = context.current()
    with transaction(rt.sessions) as s:
        out = s.execute(
            select(ExchangeFile.partner, ExchangeFile.file_type, func.count())
            .where(ExchangeFile.direction == "out")
            .group_by(ExchangeFile.partner, ExchangeFile.file_type)
        ).all()
        out_twice = s.scalar(
            select(func.count()).select_from(
                select(ExchangeFile.identity)
                .where(ExchangeFile.direction == "out", ExchangeFile.identity.is_not(None))
                .group_by(ExchangeFile.identity)
                .having(func.count() > 1)
                .subquery()
            )
        )
        e06 = s.scalar(
            select(func.count()).where(ExchangeFile.direction == "out", ExchangeFile.ack_code == "E06")
        )
        inbound = s.execute(
            select(ExchangeFile.status, func.count())
            .where(ExchangeFile.direction == "in")
            .group_by(ExchangeFile.status)
        ).all()
        applications = s.scalar(select(func.count()).select_from(FileApplication))
        applied = s.scalar(
            select(func.count()).where(
                ExchangeFile.direction == "in", ExchangeFile.status.in_(("processed", "partial"))
            )
        )
        killed_files = [
            (f.name, f.status, s.scalar(select(func.count()).where(FileApplication.file_id == f.id)))
            for f in s.scalars(select(ExchangeFile).where(ExchangeFile.name.in_(run.kill.files)))
        ]
    killed_status = None
    if run.kill.job_id:
        job = run.queue.fetch_job(run.kill.job_id)
        killed_status = job.get_status().value if job else "expired"
        if job is not None and job.retries_left is not None:
            killed_status += f", {job.retries_left} retry left"
    cron_logs = [run.procs.log(f"cron{i}") for i in range(1, run.o.schedulers + 1)]
    return Report(
        sent=sorted((p, t or "?", n) for p, t, n in out),
        sent_twice=out_twice,
        partner_duplicates=e06,
        inbound=dict(inbound),
        applications=applications,
        applied=applied,
        slots=read_cron_logs(cron_logs, run.slots),
        kill=run.kill if run.kill.worker else None,
        killed_status=killed_status,
        killed_files=killed_files,
        failed_jobs=run.failed(),
        dead=run.procs.dead(),
        posted=run.posted,
        refused=run.refused,
        logs=root / "logs",
    )
