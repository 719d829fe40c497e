"""The processes of ``svcard scale run``: a simulated clock they all read (libfaketime), a
redis-server of the run's own, and the gateway's processes (``svcard worker``, ``svcard
cron``, gunicorn), each in its own process group with its own log, always stopped.

The clock: every process of the run, this one included, starts with libfaketime
preloaded and reads the offset from real time in one file (``FAKETIME_TIMESTAMP_FILE``,
re-read at every call: ``FAKETIME_NO_CACHE``). Moving the offset moves every process's
clock at once, forward only. Monotonic clocks move with it: libfaketime 0.9.10 fails
``sleep`` when they are left real (EINVAL from clock_nanosleep), so the run measures its
own real waits as the faked time less the offset (``FakeClock.real``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
CLOCK_ENV = "SCALE_RUN_CLOCK"  # set in the re-executed run: the clock file it reads
REDIS_SERVER = shutil.which("redis-server")
BIN = Path(sys.executable).parent


def missing() -> list[str]:
    """What the run needs that this machine lacks, each with how to get it."""
    out = []
    if not LIBFAKETIME.exists():
        out.append(f"libfaketime ({LIBFAKETIME}): apt-get install faketime libfaketime")
    if REDIS_SERVER is None:
        out.append("redis-server: apt-get install redis-server")
    if not (BIN / "gunicorn").exists():
        out.append(f"gunicorn in {BIN}: make setup")
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeClock:
    """The run's clock: an offset from real time, in the file every process reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = float(path.read_text().strip()) if path.exists() else 0.0

    @staticmethod
    def env(path: Path) -> dict[str, str]:
        return {
            "LD_PRELOAD": str(LIBFAKETIME),
            "FAKETIME_TIMESTAMP_FILE": str(path),
            "FAKETIME_NO_CACHE": "1",
            CLOCK_ENV: str(path),
        }

    def real(self) -> float:
        """Real Unix time (this process's clock is faked)."""
        return time.time() - self.offset

    def now(self) -> datetime:
        return datetime.now(UTC)

    def move_to(self, instant: datetime) -> None:
        """Every process's clock to ``instant`` (never back: a job's deadlines and RQ's
        registries are written in the faked time)."""
        offset = instant.timestamp() - self.real()
        if offset < self.offset - 0.001:
            raise ValueError(f"the clock cannot go back ({self.now():%Y-%m-%d %H:%M:%S} to {instant})")
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(f"{offset:+.3f}\n")
        tmp.replace(self.path)
        self.offset = offset

    def wait_for(self, what: str, check: Callable[[], object], timeout: float, step: float = 0.02) -> object:
        """Poll ``check`` until it answers something true, for ``timeout`` real seconds."""
        return wait_until(what, check, timeout, step, clock=self.real)


def wait_until(
    what: str,
    check: Callable[[], object],
    timeout: float,
    step: float = 0.01,
    clock: Callable[[], float] = time.monotonic,
) -> object:
    """Poll ``check`` until it answers something true; TimeoutError after ``timeout``
    seconds of ``clock``."""
    deadline = clock() + timeout
    while clock() < deadline:
        got = check()
        if got:
            return got
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _pings(conn: Redis) -> bool:
    try:
        return bool(conn.ping())
    except RedisError:
        return False


@contextmanager
def private_redis(folder: Path) -> Iterator[str]:
    """A redis-server of our own on a free loopback port, stopped at the end: no other
    run on the machine can take our jobs or flush our queue (RQ's queue name is fixed)."""
    if REDIS_SERVER is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    # Redis keeps real time (its TTLs are real seconds), whoever starts it.
    real = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
    proc = subprocess.Popen(
        [*args, "--dir", str(folder)], env=real, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        conn = Redis.from_url(url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while not _pings(conn):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {port} did not answer")
            time.sleep(0.05)
        conn.close()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def children(pid: int) -> list[int]:
    """The direct children of a process (an RQ worker's work horse)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


class Processes:
    """Named subprocesses, each in its own process group with a log file of its own;
    ``stop_all`` stops every one (SIGTERM, ``grace`` seconds, then SIGKILL of the group)
    whatever happened. The exactly-once tests' workers are these too (tests/integration/rq_kit.py)."""

    def __init__(self, env: dict[str, str], logs: Path, *, grace: float = 10.0) -> None:
        self.env, self.logs, self.grace = env, logs, grace
        self.procs: dict[str, subprocess.Popen] = {}
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: list[str], *, cwd: Path | None = None, **env: str) -> subprocess.Popen:
        full = {k: v for k, v in os.environ.items() if not k.startswith("SVCARD_")}
        full.update(self.env, **env)
        log = open(self.log_path(name), "ab")  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen(
            args, env=full, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.procs[name] = proc
        return proc

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def log(self, name: str) -> str:
        return self.log_path(name).read_text(errors="replace")

    def kill(self, name: str) -> list[int]:
        """SIGKILL a worker and its work horses together, as a host's crash would: the
        horses first (RQ puts each in a session of its own, out of the worker's group).
        Answers the horses' pids."""
        proc = self.procs[name]
        horses = children(proc.pid)
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return horses

    def dead(self) -> list[str]:
        """Processes that exited on their own."""
        return [n for n, p in self.procs.items() if p.poll() is not None and p.returncode != -signal.SIGKILL]

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc.pid, signal.SIGKILL)  # what is left of its group
            proc.wait()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
