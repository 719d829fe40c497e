"""``svcard scale run``: the gateway in its production shape, on a simulated clock.

PostgreSQL (a fresh database) and a redis-server of the run's own; ``--workers`` ``svcard
worker`` processes; ``--schedulers`` ``svcard cron`` schedulers at once; gunicorn serving
the API, to which the volunteer platform posts its terminal swipes; the sandbox partners
(in this process, real SFTP and SOAP servers on loopback). Every process reads one
simulated clock (``demo.scale_procs.FakeClock``), which this run moves from moment to
moment of the registry's real schedule (``jobs.schedule.entries()``) and the partners'
own day: the schedulers see each cron slot come, the workers run what they enqueue,
and the run waits until the queue is empty before it moves the clock on.

On ``--kill-day`` the run holds the database's ``card_events`` table (a lock) just
before the bank's morning fetch, waits until a worker is inside a bank file's
transaction (its exactly-once gate row written, the records waiting on the lock) and
SIGKILLs that worker and its work horse together; a fresh worker takes its place. No one
tells RQ: the job is found abandoned by a worker's own maintenance (heartbeat expired)
and retried by its retry policy (``jobs.queue.retry_for``); the database rolled the
killed transaction back. The report says what was sent, applied and enqueued, and every
duplicate found (none expected): the answer to "may any number of workers and
schedulers run?" (docs/decisions.md).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg
from rq import Worker
from rq.cron import get_cron_job_ids
from sqlalchemy import select

from demo import terminals as demo_terminals
from demo.scale_procs import BIN, FakeClock, Processes, free_port, private_redis
from demo.scale_report import Report, collect
from demo.timeline import Moment, firings
from gateway import context, migrate
from gateway import settings as settings_mod
from gateway.api.tokens import create_token
from gateway.db import transaction
from gateway.models import ExchangeFile
from gateway.services import calendar as cal_service
from gateway.services import sample
from gateway.services.volunteer_import import import_csv
from gateway.timeutil import BEIJING
from jobs import cron
from jobs.queue import rq_queue
from jobs.schedule import entries
from keys.keystore import Keystore
from sandbox.bank import BankRates
from sandbox.world import World

ROOT = Path(__file__).resolve().parent.parent
# A bank that makes cards in a day or two, so a week has cards in use and swipes.
SCALE_BANK = dataclasses.replace(
    BankRates(), audit_days=(0, 0), produce_days=(1, 1), notify_days=(0, 0), collect_days=(0, 1)
)
HELD_TABLE = "card_events"  # written by the bank's CARDRESULT and CARDSTATUS after the gate


@dataclass
class ScaleOptions:
    dir: Path = Path("var/scale")
    days: int = 7
    volunteers: int = 200
    workers: int = 4
    schedulers: int = 2
    start: date | None = None  # default: the first Monday at least two days ahead
    first_time: time = time(0, 0)  # the first day's start, Beijing
    last_time: time = time(23, 59)  # the last day's end
    kill_day: int = 2  # 1-based; 0: no kill
    pg: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    seed: int = 20261214
    tick: float = 0.2
    keep_db: bool = False

    def start_day(self, today: date) -> date:
        # Ahead of today: the run's certificates are made now and must be valid on its clock.
        ahead = today + timedelta(days=2)
        return self.start or ahead + timedelta(days=(7 - ahead.weekday()) % 7)


@dataclass
class Kill:
    worker: str = ""
    job_id: str = ""
    files: list[str] = field(default_factory=list)  # not applied yet when the worker died
    at: datetime | None = None


@dataclass
class Run:
    o: ScaleOptions
    say: Callable[[str], None]
    clock: FakeClock = field(init=False)
    kill: Kill = field(default_factory=Kill)
    slots: list[tuple[str, datetime]] = field(default_factory=list)
    posted: int = 0
    _cron_seen: dict = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    def go(self) -> Report:
        root = self.o.dir.resolve()
        self.clock = FakeClock(root / "clock")
        start = self.o.start_day(datetime.now(BEIJING).date())
        db = f"svcard_scale_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.o.pg, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{db}"')
        self.pg_db = f"{self.o.pg.rsplit('/', 1)[0]}/{db}"
        world = procs = None
        try:
            with private_redis(root / "redis") as redis_url:
                self.queue = rq_queue(redis_url)
                self.redis = self.queue.connection
                world, env = self._setup(root, redis_url)
                procs = Processes({**env, **FakeClock.env(self.clock.path)}, root / "logs")
                self.world, self.procs, self.env = world, procs, env
                # a minute early: the processes start on this clock, and must be up before the first slot
                self.clock.move_to(datetime.combine(start, self.o.first_time, BEIJING) - timedelta(minutes=1))
                self._start_processes()
                for n in range(self.o.days):
                    self._day(start + timedelta(days=n), n + 1)
                self._settle()
                return self._report(root)
        finally:
            if procs is not None:
                procs.stop_all()
            if world is not None:
                world.close()
            context.install(None)
            if not self.o.keep_db:
                with psycopg.connect(self.o.pg, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    # ------------------------------------------------------------------ setup

    def _setup(self, root: Path, redis_url: str) -> tuple[World, dict[str, str]]:
        passphrase = secrets.token_urlsafe(24)
        ks = Keystore(root / "keys", passphrase)
        ks.init()
        world = World.for_keystore(
            root / "sandbox",
            ks,
            seed=self.o.seed,
            bank_rates=SCALE_BANK,
            identity_cache=root.parent / "cache" / "sandbox-identities",
        ).start()
        world.pin_in(ks)
        env = {
            "SVCARD_VAR_DIR": str(root / "var"),
            "SVCARD_KEYS_DIR": str(ks.path),
            "SVCARD_KEY_PASSPHRASE": passphrase,
            "SVCARD_DATABASE_URL": self.pg_db.replace("postgresql://", "postgresql+psycopg://", 1),
            "SVCARD_REDIS_URL": redis_url,
            "SVCARD_RETRY_BASE_DELAY": "0.2",
            "SVCARD_LOG_LEVEL": "INFO",
            **world.gateway_env(),
        }
        rt = context.build(settings_mod.load(environ=env))
        context.install(rt)
        migrate.upgrade(rt.engine)
        with transaction(rt.sessions) as s:
            cal_service.seed_from_holidays(s)
        csv_path = sample.generate(root / "import", self.o.volunteers, seed=self.o.seed, bad_rows=0)
        with transaction(rt.sessions) as s:
            import_csv(s, csv_path, actor="scale")
            demo_terminals.load(s)
            _, self.platform_token = create_token(s, name="scale-platform", role="platform")
        self.say(
            f"setup: database {self.pg_db.rsplit('/', 1)[1]}, {self.o.volunteers} volunteers, "
            f"{len(demo_terminals.TERMINALS)} terminals; sandbox partners on loopback"
        )
        return world, env

    def _start_processes(self) -> None:
        for i in range(1, self.o.workers + 1):
            self._worker(f"w{i}")
        for i in range(1, self.o.schedulers + 1):
            self.procs.start(f"cron{i}", [str(BIN / "svcard"), "cron", "--tick", str(self.o.tick)])
        self.api_port = free_port()
        self.procs.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "--workers",
                "2",
                "--timeout",
                "0",
                "--bind",
                f"127.0.0.1:{self.api_port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],  # fmt: skip
            cwd=ROOT,
        )
        self.clock.wait_for("the workers", lambda: self._live_workers() >= self.o.workers, 60)
        self.clock.wait_for("the schedulers", self._schedulers_up, 60)
        self.clock.wait_for("the API", lambda: self._get("/healthz") == 200, 60)
        self.say(
            f"processes: {self.o.workers} workers, {self.o.schedulers} schedulers (tick {self.o.tick} s), "
            f"gunicorn on 127.0.0.1:{self.api_port}; clock {self.clock.now().astimezone(BEIJING):%Y-%m-%d %H:%M} Beijing"
        )

    def _worker(self, name: str) -> None:
        url = self.env["SVCARD_DATABASE_URL"] + f"?application_name=scale-{name}"
        self.procs.start(
            name, [str(BIN / "svcard"), "worker", "--name", f"scale-{name}"], SVCARD_DATABASE_URL=url
        )

    def _live_workers(self) -> int:
        return sum(w.name.startswith("scale-") for w in Worker.all(connection=self.redis))

    def _schedulers_up(self) -> bool:
        return all("scheduled jobs" in self.procs.log(f"cron{i}") for i in range(1, self.o.schedulers + 1))

    def _get(self, path: str) -> int:
        import requests  # noqa: PLC0415 - loads with the run

        try:
            return requests.get(f"http://127.0.0.1:{self.api_port}{path}", timeout=5).status_code
        except requests.RequestException:
            return 0

    # ------------------------------------------------------------------ the days

    def _day(self, d: date, n: int) -> None:
        window_start = datetime.combine(d, self.o.first_time if n == 1 else time(0), BEIJING)
        window_end = datetime.combine(d, self.o.last_time if n == self.o.days else time(23, 59, 59), BEIJING)
        world = [
            Moment(_at(d, 5), "bank and fund close the day", act=lambda: self._close_day(d)),
            Moment(_at(d, 6, 30), "Shenzhen Tong answers", act=lambda: self.world.transit.run_day(d)),
            Moment(_at(d, 12, 15), "volunteers serve", act=lambda: self._serve(_at(d, 9), _at(d, 12))),
            Moment(_at(d, 17, 45), "volunteers serve", act=lambda: self._serve(_at(d, 14), _at(d, 17, 30))),
        ]
        moments = sorted([*world, *firings(entries(), d)], key=lambda m: (m.at, m.entry is not None, m.what))
        ran = 0
        for m in moments:
            if not window_start <= m.at <= window_end:
                continue
            if m.entry is not None and m.entry.name == "bocsz-fetch" and n == self.o.kill_day:
                self._fetch_with_kill(m)
            elif m.entry is None:
                self._move(m.at)
                m.act()
            else:
                self._slot(m)
            self._drain()
            ran += 1
        failed = self.failed()
        self.say(f"{d:%Y-%m-%d %a}: {ran} moments, {len(self.slots)} slots so far; failed jobs {len(failed)}")

    def _move(self, at: datetime) -> None:
        now = self.clock.now()
        if at > now:
            self.clock.move_to(at)
        self._trace(
            f"move to {at.astimezone(BEIJING):%m-%d %H:%M:%S.%f} (was {now.astimezone(BEIJING):%H:%M:%S.%f})"
        )

    def _trace(self, line: str) -> None:
        """The driver's own log (var/scale/logs/driver.log): each move and claim, real time."""
        with open(self.procs.log_path("driver"), "a") as f:
            f.write(f"{datetime.fromtimestamp(self.clock.real(), BEIJING):%H:%M:%S.%f} {line}\n")

    def _slot(self, m: Moment, *, wait_job: bool = True) -> None:
        """The clock just past the slot; wait until a scheduler has claimed and enqueued it,
        every scheduler has looked at it (RQ's scheduler takes its "now" once per look:
        moving the clock during a look leaves its timetable a slot behind), and its job
        has ended."""
        self._move(m.at + timedelta(seconds=0.5))
        key = cron.claim_key(m.entry.name, m.at)
        iso = m.at.astimezone(UTC).isoformat()

        def enqueued():
            for jid in get_cron_job_ids(m.entry.name, self.redis, 0, 2):
                job = self.queue.fetch_job(jid)
                if job is not None and job.meta.get("slot") == iso:
                    return job
            return None

        job = self.clock.wait_for(f"slot {m.entry.name} {m.at:%H:%M} enqueued", enqueued, 30)
        needle = f"cron: {m.entry.name} slot {iso} "
        self.clock.wait_for(
            f"every scheduler to look at {m.entry.name} {m.at:%H:%M}",
            lambda: all(needle in self._cron_log(i) for i in range(1, self.o.schedulers + 1)),
            30,
        )
        self._trace(f"claimed {key} by {self.redis.get(key)} as job {job.id}")
        self.slots.append((m.entry.name, m.at))
        if wait_job:
            self.clock.wait_for(
                f"job {m.entry.name} {m.at:%H:%M} to end",
                lambda: job.get_status(refresh=True) in ("finished", "failed"),
                600,
            )

    def _cron_log(self, i: int) -> str:
        """Scheduler ``i``'s log since the last few slots (read from where it last ended)."""
        path = self.procs.log_path(f"cron{i}")
        seen = self._cron_seen.setdefault(i, [0, ""])
        with open(path, "rb") as f:
            f.seek(seen[0])
            new = f.read().decode(errors="replace")
        seen[0] += len(new.encode())
        seen[1] = (seen[1] + new)[-20000:]
        return seen[1]

    def _close_day(self, d: date) -> None:
        self.world.bank.run_day(d - timedelta(days=1))
        self.world.fund.run_day(d - timedelta(days=1))

    def _serve(self, start: datetime, end: datetime) -> None:
        """The platform posts its terminals' swipes to the API (gunicorn), as they come."""
        import requests  # noqa: PLC0415 - loads with the run

        rt = context.current()
        with transaction(rt.sessions) as s:
            official = demo_terminals.serving_volunteers(s)
        rng = random.Random(f"{self.o.seed}{start.isoformat()}")
        headers = {"Authorization": f"Bearer {self.platform_token}"}
        base = f"http://127.0.0.1:{self.api_port}/api/service"
        for no in rng.sample(official, k=min(len(official), 8)):
            terminal = demo_terminals.pick_terminal(rng)
            for kind, at in (("check-in", start), ("check-out", end)):
                body = {"volunteer_no": no, "terminal_id": terminal, "at": at.isoformat()}
                key = {"Idempotency-Key": f"scale-{no}-{kind}-{at:%Y%m%d%H%M}"}
                r = requests.post(f"{base}/{kind}", json=body, headers={**headers, **key}, timeout=10)
                self.posted += 1
                if r.status_code >= 300:
                    self.refused.append(f"{kind} {no}: {r.status_code} {r.json().get('code')}")
                    break

    # ------------------------------------------------------------------ the fault

    def _fetch_with_kill(self, m: Moment) -> None:
        with psycopg.connect(self.pg_db) as hold:
            hold.execute(f"LOCK TABLE {HELD_TABLE} IN SHARE MODE")  # inserts wait; reads go on
            self._slot(m, wait_job=False)  # the job waits on the held table
            try:
                backend = self.clock.wait_for(
                    "a worker inside a bank file's transaction", self._inside_file, 120
                )
            except TimeoutError:
                self.say(f"fault: no bank file reached {HELD_TABLE} at {m.at:%H:%M}: nothing killed")
                return
            name = backend.removeprefix("scale-")
            self.kill.worker, self.kill.at = name, self.clock.now()
            self.kill.job_id = self._job_of(f"scale-{name}")
            self.kill.files = self._unapplied()
            horses = self.procs.kill(name)
            if not horses:
                raise RuntimeError(f"worker {name} had no work horse to kill")
            self._worker(f"{name}-replacement")
        # the lock released (the connection closed): the killed backend finds its client
        # gone at its next statement and PostgreSQL rolls the file's transaction back
        self.say(
            f"fault: SIGKILL of worker {name} and its work horse inside a bank file's transaction "
            f"(job {self.kill.job_id}); a replacement started"
        )

    def _inside_file(self) -> str | None:
        """A worker backend holding ``file_applications`` (the gate row written) and
        waiting for the held table."""
        sql = """
            SELECT a.application_name FROM pg_stat_activity a
            WHERE a.application_name LIKE 'scale-w%%' AND a.wait_event_type = 'Lock'
              AND EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                          WHERE l.pid = a.pid AND l.granted AND c.relname = 'file_applications'
                            AND l.mode = 'RowExclusiveLock')
            LIMIT 1"""
        with psycopg.connect(self.pg_db, autocommit=True) as c:
            row = c.execute(sql).fetchone()
        return row[0] if row else None

    def _job_of(self, worker_name: str) -> str:
        """The job the worker was running (RQ's started registry names its worker)."""
        for jid in self._started():
            job = self.queue.fetch_job(jid)
            if job is not None and job.worker_name == worker_name and job.get_status() == "started":
                return job.id
        return ""

    def _unapplied(self) -> list[str]:
        """The inbound files not applied yet: the killed worker's file is among them."""
        with transaction(context.current().sessions) as s:
            return list(
                s.scalars(
                    select(ExchangeFile.name).where(
                        ExchangeFile.direction == "in", ExchangeFile.status == "received"
                    )
                )
            )

    # ------------------------------------------------------------------ the queue

    def _drain(self) -> None:
        """Wait until nothing is queued or running, but the killed worker's job (RQ finds
        it abandoned at a worker's next maintenance, when the clock has moved on)."""
        q = self.queue

        def idle() -> bool:
            # a dequeued job sits in the intermediate queue until its worker registers it
            # as started: empty too, or the clock would move under a job about to start
            moving = self.redis.llen(q.intermediate_queue_key)
            return q.count == 0 and not moving and not (self._started() - self._abandoned())

        self.clock.wait_for("the queue to drain", idle, 600)

    def _started(self) -> set[str]:
        """The ids of the jobs RQ's started registry holds (its entries are job:execution)."""
        return {e.split(":", 1)[0] for e in self.queue.started_job_registry.get_job_ids(cleanup=False)}

    def _abandoned(self) -> set[str]:
        """The killed worker's job while it is still marked as running on that worker:
        the one job the run does not wait for. Once RQ has requeued it, it is waited for
        like any other (moving the clock under a running job would make it look
        abandoned too)."""
        if not self.kill.job_id:
            return set()
        job = self.queue.fetch_job(self.kill.job_id)
        if (
            job is not None
            and job.get_status() == "started"
            and job.worker_name == f"scale-{self.kill.worker}"
        ):
            return {job.id}
        return set()

    def _settle(self) -> None:
        """After the last moment: minute by minute until the killed worker's job is found
        abandoned and run again (a worker's maintenance runs every ten minutes)."""
        for _ in range(30):
            job = self.queue.fetch_job(self.kill.job_id) if self.kill.job_id else None
            if job is None or job.get_status() in ("finished", "failed"):
                return
            self._move(self.clock.now() + timedelta(minutes=1))
            self._drain()

    def failed(self) -> list[str]:
        return self.queue.failed_job_registry.get_job_ids()

    # ------------------------------------------------------------------ the report

    def _report(self, root: Path) -> Report:
        return collect(self, root)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


def drive(options: ScaleOptions, say: Callable[[str], None] = print) -> Report:
    """The run, in a folder ``svcard scale run`` prepared (its clock file in it)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandbox SOAP server's access log
    return Run(options, say).go()
