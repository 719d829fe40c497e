"""Exactly once with real RQ workers (issue 5): ``svcard worker`` subprocesses on a real
Redis (a redis-server of the module's own) and a shared PostgreSQL, against the sandbox
bank over SFTP.

- A worker whose work horse is SIGKILLed while it streams a 200,000-record SWIPE file
  into the file's transaction runs the job again itself (the job's retry policy); the
  killed run is rolled back whole, and the rerun gives exactly the database a clean,
  uninterrupted run gives. Compared: every table, every row, every column except serial ``id``s, clock
  stamps (``*_at``) and ``file_applications.worker`` (``rq_kit.dump``).
- Two workers running the same ``send_scheduled`` and then the same ``fetch_and_process``
  at the same moment (as two cron schedulers would) send each file once (one row, one
  upload) and apply each file once; the bank's file delivered a second time under
  another name is E06 once. The test holds both workers at a lock on ``exchange_files``
  and releases them together, so the race is forced rather than left to timing.
- The one interleaving that race reaches only by chance (a file committed between one
  worker's look and its SEQ claim) is forced in-process, with two connections.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from paramiko import SFTP_OK
from sqlalchemy import func, select

from demo import scale_procs
from gateway import context, migrate, wiring
from gateway import settings as settings_mod
from gateway.db import transaction
from gateway.domain.lifecycle import CardState
from gateway.models import Card
from gateway.models.exchange import ExchangeFile, FileApplication
from gateway.services import exchange
from jobs import exchange as jobs
from jobs.queue import enqueue, job_status
from keys.keystore import Keystore
from sandbox import sftp_server
from sandbox.bank import BankRates
from sandbox.world import World
from tests.conftest import REDIS_TEST_URL, emptied_redis, require_service
from tests.integration import rq_kit
from tests.sandbox.world_kit import identity_cache
from tests.services.foundation_helpers import official

pytestmark = pytest.mark.integration
PASSPHRASE = "test-keystore-passphrase"
D0 = date(2027, 1, 11)  # a Monday
VOLUNTEERS = 12
SWIPE_RECORDS = 200_000
REDIS_DB = 13  # without redis-server here: other tests use 14 (tests/conftest.py)
FAST_BANK = BankRates(
    r01_identity=0, r02_photo=0, r04_branch=0, r05_credit=0, late_rate=0, audit_days=(0, 0),
    produce_days=(1, 1), notify_days=(0, 0), collect_rate=1.0, collect_days=(0, 0), loss_rate=0,
    damage_rate=0, account_close_rate=0, reissue_rate=0, swipes_per_card_day=0,
)  # fmt: skip


def _rt(env: dict[str, str]) -> context.Runtime:
    """The test process's runtime on exactly the settings the workers read."""
    rt = context.build(settings_mod.load(environ=env))
    context.install(rt)
    return rt


def _uninstall(rt: context.Runtime) -> None:
    context.install(None)
    rt.engine.dispose()


@dataclasses.dataclass
class Base:
    """A gateway whose volunteers' cards are all in use, and the sandbox bank with them.

    ``db`` is a template: each test works on its own copy."""

    db: str
    env: dict[str, str]  # SVCARD_* of the gateway (its database set per test)
    world: World
    last_day: date
    outbox: Path
    outbox_names: frozenset[str]
    last_file_id: int

    def env_for(self, db: str, application: str | None = None, **more: str) -> dict[str, str]:
        return {**self.env, "SVCARD_DATABASE_URL": rq_kit.db_url(db, application), **more}

    def forget_other_tests_files(self) -> None:
        """The bank's outbox as the base left it: a test's copy of the database knows
        nothing of the files another test made the bank write."""
        for f in self.outbox.iterdir():
            if f.name not in self.outbox_names:
                f.unlink()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory):
    try:
        rq_kit.admin().close()
    except Exception as exc:  # noqa: BLE001 - any failure to reach it is "unavailable"
        require_service("PostgreSQL", str(exc).splitlines()[0])
    root = tmp_path_factory.mktemp("rq-xo")
    ks = Keystore(root / "keys", PASSPHRASE)
    ks.init()
    world = World.for_keystore(
        root / "world",
        ks,
        seed=5,
        bank_rates=FAST_BANK,
        identity_cache=identity_cache(),
    ).start()
    db = rq_kit.create_db()
    try:
        ks.trust("BOCSZ", world.cert_path("BOCSZ").read_bytes())
        ks.trust_host("BOCSZ", (world.root / "export" / "BOCSZ.known_hosts").read_text())
        env = {
            "SVCARD_VAR_DIR": str(root / "var"),
            "SVCARD_KEYS_DIR": str(ks.path),
            "SVCARD_KEY_PASSPHRASE": PASSPHRASE,
            "SVCARD_PARTNER_BOCSZ_URL": world.gateway_env()["SVCARD_PARTNER_BOCSZ_URL"],
            "SVCARD_RETRY_BASE_DELAY": "0",
            "SVCARD_LOG_LEVEL": "WARNING",
        }
        rt = _rt({**env, "SVCARD_DATABASE_URL": rq_kit.db_url(db)})
        try:
            migrate.upgrade(rt.engine)
            with transaction(rt.sessions) as s:
                for _ in range(VOLUNTEERS):
                    official(s)
            day = D0
            for n in range(8):
                day = D0 + timedelta(days=n)
                jobs.send_scheduled("BOCSZ", day.isoformat())
                world.bank.run_day(day)
                jobs.fetch_and_process("BOCSZ", day.isoformat())
                with transaction(rt.sessions) as s:
                    in_use = s.scalar(select(func.count()).where(Card.state == CardState.IN_USE))
                if in_use == VOLUNTEERS:
                    break
            assert in_use == VOLUNTEERS, f"only {in_use} cards in use after {n + 1} days"
            with transaction(rt.sessions) as s:
                last_file_id = s.scalar(select(func.max(ExchangeFile.id)))
        finally:
            _uninstall(rt)
        outbox = world.root / "BOCSZ" / "outbox"
        yield Base(db, env, world, day, outbox, frozenset(f.name for f in outbox.iterdir()), last_file_id)
    finally:
        world.close()
        rq_kit.drop_db(db)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis of this module's own when ``redis-server`` is installed (as in CI), else
    database 13 of the test Redis (other tests use 14)."""
    if scale_procs.REDIS_SERVER:
        with scale_procs.private_redis(tmp_path_factory.mktemp("redis")) as url:
            yield url
    else:
        yield REDIS_TEST_URL.rsplit("/", 1)[0] + f"/{REDIS_DB}"


@pytest.fixture
def xo_redis(redis_server: str) -> Iterator[str]:
    """RQ's queues and registries for one test, emptied before and after."""
    with emptied_redis(redis_server) as url:
        yield url


@pytest.fixture
def databases():
    """Databases a test makes; dropped at the end whatever happened."""
    made: list[str] = []
    yield made
    for name in made:
        rq_kit.drop_db(name)


def _copy(base: Base, databases: list[str]) -> str:
    name = rq_kit.create_db(template=base.db)
    databases.append(name)
    return name


def _job_done(job_id: str, timeout: float) -> str:
    def check():
        h = job_status(job_id)
        return h.status if h and h.status in ("finished", "failed") else None

    return scale_procs.wait_until(f"job {job_id}", check, timeout, step=0.05)


# ---------------------------------------------------------------------- SIGKILL


def test_worker_killed_mid_file_is_retried_and_the_rerun_equals_a_clean_run(
    base: Base, xo_redis: str, databases: list[str], tmp_path: Path
) -> None:
    base.forget_other_tests_files()
    day = base.last_day + timedelta(days=1)
    rates = base.world.bank.rates
    base.world.bank.rates = dataclasses.replace(rates, swipe_total=SWIPE_RECORDS)
    try:
        base.world.bank.run_day(day)
    finally:
        base.world.bank.rates = rates
    # Fetch inline and apply the day's small files; the SWIPE file is left for the worker.
    db = _copy(base, databases)
    rt = _rt(base.env_for(db))
    try:
        got = exchange.fetch(wiring.ports(rt), "BOCSZ").new
        with transaction(rt.sessions) as s:
            new = {f.file_type: f.id for f in s.scalars(select(ExchangeFile).where(ExchangeFile.id.in_(got)))}
        for ftype, fid in new.items():
            if ftype != "SWIPE":
                jobs.process_file(fid)
        swipe_id = new["SWIPE"]
    finally:
        _uninstall(rt)
    before = rq_kit.dump(db)
    clean = rq_kit.create_db(template=db)  # for the clean run, below
    databases.append(clean)

    # The worker, its backend watched: killed once inside the file's transaction (the
    # exactly-once gate inserted, the records streaming into swipes).
    app = "xo-killed"
    env = base.env_for(db, app, SVCARD_REDIS_URL=xo_redis)
    rt = _rt(env)
    try:
        with rq_kit.workers(env, tmp_path / "logs") as ws:
            handle = enqueue(jobs.process_file, swipe_id)
            started = time.monotonic()
            worker = ws.start("killed", burst=True)

            def mid_file():
                # The gate row written, not committed, and the records going in: past the
                # gate's own statements (in practice the first poll to see this finds the
                # records streaming in, in COPY).
                setup = ("INSERT INTO file_applications", "UPDATE exchange_files")
                for b in rq_kit.backends(db, app):
                    if "file_applications" in b["wrote"] and not b["query"].lstrip().startswith(setup):
                        return b
                return None

            caught = scale_procs.wait_until("the worker inside the SWIPE file's transaction", mid_file, 60)
            horses = scale_procs.children(worker.pid)
            assert len(horses) == 1, f"work horse of {worker.pid}: {horses}"
            os.kill(horses[0], signal.SIGKILL)
            killed_after = time.monotonic() - started
            # The worker survives its horse and, the job's retry policy (jobs.queue.retry_for)
            # not spent, runs the job again at once; the rerun waits on the killed
            # backend's lock until PostgreSQL rolls it back, then starts from nothing.
            assert ws.wait("killed", 180) == 0, ws.log("killed")
            rerun_s = time.monotonic() - started - killed_after
            assert _job_done(handle.id, 10) == "finished"
            assert job_status(handle.id).result == "processed"
            # RQ keeps no record of a retried run; the worker's log says it (jobs/worker.py).
            assert re.search(
                rf"job {handle.id} \(jobs.exchange.process_file\) failed and runs again, "
                r"1 more run\(s\) allowed: .*signal 9",
                ws.log("killed"),
            ), ws.log("killed")
            assert not rq_kit.backends(db, app)
    finally:
        _uninstall(rt)

    # The clean run: the same job, never interrupted, on the copy taken before the kill.
    rt = _rt(base.env_for(clean))
    try:
        t = time.monotonic()
        assert jobs.process_file(swipe_id) == "processed"
        clean_s = time.monotonic() - t
    finally:
        _uninstall(rt)
    after_rerun, after_clean = rq_kit.dump(db), rq_kit.dump(clean)
    assert rq_kit.diff(after_rerun, after_clean) == []
    assert len(after_clean["swipes"]) + len(after_clean["swipe_duplicates"]) == SWIPE_RECORDS
    assert len(after_clean["file_applications"]) == len(before["file_applications"]) + 1
    print(
        f"\nSIGKILL {killed_after:.2f} s after the job was enqueued ({caught['query'][:40]}...); "
        f"retried by the same worker in {rerun_s:.1f} s, clean run inline {clean_s:.1f} s "
        f"for {SWIPE_RECORDS} records; {sum(map(len, after_clean.values()))} rows compared"
    )


# ---------------------------------------------------------------------- two workers


def _count_uploads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every completed upload into a partner's inbox, by name, as the sandbox SFTP server
    (in this process) sees the ``.part`` file renamed."""
    uploads: Counter[str] = Counter()
    iface = sftp_server._SftpInterface
    for method in ("rename", "posix_rename"):
        original = getattr(iface, method)

        def counted(self, oldpath, newpath, _original=original):
            result = _original(self, oldpath, newpath)
            if oldpath.endswith(".part") and result == SFTP_OK:
                uploads[newpath.rsplit("/", 1)[-1]] += 1
            return result

        monkeypatch.setattr(iface, method, counted)
    return uploads


def _race(db: str, jobs_: list, ws: rq_kit.Workers) -> list:
    """Run the jobs on the two workers with both held at a lock (the test's own lock on
    ``exchange_files``, which each job needs to write to it, or the other worker's row
    lock behind it) and released together."""
    holder = psycopg.connect(rq_kit.db_url(db).replace("+psycopg", ""))
    try:
        holder.execute("LOCK TABLE exchange_files IN EXCLUSIVE MODE")  # reads pass, writes wait
        handles = [enqueue(func, *args) for func, *args in jobs_]
        try:
            scale_procs.wait_until(
                "both workers waiting on a lock",
                lambda: {"xo-w1", "xo-w2"} <= rq_kit.waiting_on_locks(db),
                60,
                step=0.05,
            )
        except TimeoutError:
            raise AssertionError(
                f"{rq_kit.backends(db, 'xo-w1')} {rq_kit.backends(db, 'xo-w2')}\n"
                f"{ws.log('w1')}\n{ws.log('w2')}"
            ) from None
        holder.commit()  # release them together
    finally:
        holder.close()
    for h in handles:
        _job_done(h.id, 60)
    return [job_status(h.id) for h in handles]


def test_two_workers_on_the_same_schedule_send_and_apply_each_file_once(
    base: Base, xo_redis: str, databases: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base.forget_other_tests_files()
    uploads = _count_uploads(monkeypatch)
    day = (base.last_day + timedelta(days=2)).isoformat()
    db = _copy(base, databases)
    env = base.env_for(db, SVCARD_REDIS_URL=xo_redis)
    rt = _rt(env)
    try:
        with transaction(rt.sessions) as s:
            for _ in range(3):
                official(s)  # three orders pending for the day's CARDORDER
        with rq_kit.workers(env, tmp_path / "logs") as ws:
            for name in ("w1", "w2"):
                ws.start(name, SVCARD_DATABASE_URL=rq_kit.db_url(db, f"xo-{name}"))
            sends = _race(db, [(jobs.send_scheduled, "BOCSZ", day)] * 2, ws)
            assert [h.status for h in sends] == ["finished", "finished"], ws.log("w1") + ws.log("w2")
            base.world.bank.run_day(date.fromisoformat(day))
            # ... and the bank delivers one file twice, the second time under another name.
            status = next(base.outbox.glob(f"CARDSTATUS_BOCSZ_{day.replace('-', '')}_001.*"))
            shutil.copyfile(status, status.with_name(status.name.replace("_001.", "_002.")))
            fetches = _race(db, [(jobs.fetch_and_process, "BOCSZ", day)] * 2, ws)
            assert [h.status for h in fetches] == ["finished", "finished"], ws.log("w1") + ws.log("w2")
            logs = ws.log("w1") + ws.log("w2")
        with transaction(rt.sessions) as s:
            files = s.scalars(
                select(ExchangeFile).where(
                    ExchangeFile.partner == "BOCSZ", ExchangeFile.id > base.last_file_id
                )
            ).all()
            applied = Counter(s.scalars(select(FileApplication.file_id)).all())
    finally:
        _uninstall(rt)
    out = [f for f in files if f.direction == "out"]
    inbound = [f for f in files if f.direction == "in"]
    # Sent once: one row per file type, every one uploaded exactly once.
    assert sorted(f.file_type for f in out) == ["ACK", "CARDORDER", "CARDREQ"], [
        (f.name, f.status, f.record_count, f.business_date) for f in out
    ]
    assert {f.name: uploads[f.name] for f in out} == {f.name: 1 for f in out}
    assert all(f.status != "prepared" for f in out)
    (order_file,) = [f for f in out if f.file_type == "CARDORDER"]
    assert order_file.record_count == 3
    # Applied once: each of the bank's files of the day recorded once, applied once, ACKed once.
    by_status = Counter((f.file_type, f.status) for f in inbound)
    assert by_status == {
        ("ACK", "processed"): 1,
        ("CARDRESULT", "processed"): 1,
        ("CARDSTATUS", "processed"): 1,
        ("CARDSTATUS", "duplicate"): 1,  # the renamed copy: E06, once
        ("SWIPE", "processed"): 1,
    }, ([(f.id, f.name, f.status, f.detail, f.identity, f.duplicate_of_id) for f in inbound], logs)
    assert {f.id: applied[f.id] for f in inbound if f.status == "processed"} == {
        f.id: 1 for f in inbound if f.status == "processed"
    }
    (copy,) = [f for f in inbound if f.status == "duplicate"]
    assert (copy.name.endswith("_002.txt.p7m"), copy.ack_code, applied[copy.id]) == (True, "E06", 0)
    # One ACK answers the day's four data files (not the bank's ACK), each once.
    (ack,) = [f for f in out if f.file_type == "ACK"]
    assert ack.record_count == 4
    assert {f.ack_file_id for f in inbound if f.file_type != "ACK"} == {ack.id}


def test_a_file_committed_between_our_look_and_our_seq_claim_collides_instead_of_going_twice(
    base: Base, databases: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving the two-worker race can only hit by chance, forced: worker B has
    looked for the day's CARDORDER (none) and collected the pending orders when worker A's
    whole CARDORDER commits. B must collide on the SEQ and look again, not claim SEQ 2 and
    send the same orders in a second file."""
    from gateway.models import Order
    from gateway.models.exchange import OutboundItem
    from gateway.services.channels import channel

    db = _copy(base, databases)
    day = D0 + timedelta(days=14)  # a Monday, after every other test's dates
    rt = _rt(base.env_for(db))
    ports = wiring.ports(rt)
    try:
        with transaction(rt.sessions) as s:
            for _ in range(2):
                official(s)
        builder = channel("BOCSZ").outbound["CARDORDER"]
        real_collect = builder.collect
        other: list = []

        def collect_then_let_a_finish(session, business_date):
            batch = real_collect(session, business_date)
            if not other:  # B, first time: A runs its whole prepare now, in another connection
                worker_a = threading.Thread(
                    target=lambda: other.append(exchange.prepare(ports, "BOCSZ", "CARDORDER", business_date))
                )
                other.append("running")
                worker_a.start()
                worker_a.join(30)
            return batch

        monkeypatch.setattr(builder, "collect", collect_then_let_a_finish)
        b_file = exchange.prepare(ports, "BOCSZ", "CARDORDER", day)
        with transaction(rt.sessions) as s:
            files = s.scalars(
                select(ExchangeFile).where(
                    ExchangeFile.file_type == "CARDORDER", ExchangeFile.business_date == day
                )
            ).all()
            items = Counter(
                s.scalars(
                    select(OutboundItem.ref).where(OutboundItem.file_id.in_([f.id for f in files]))
                ).all()
            )
            pending = s.scalar(select(func.count()).select_from(Order).where(Order.status == "PENDING"))
    finally:
        _uninstall(rt)
    a_file = other[-1]
    assert [(f.seq, f.record_count) for f in files] == [(1, 2)]  # one file, both orders
    assert a_file == files[0].id and b_file in (None, a_file)  # B resumed A's file or had nothing
    assert sorted(items.values()) == [1, 1] and pending == 0
