"""Helpers of the exactly-once tests with real RQ workers: worker subprocesses that are
always stopped, PostgreSQL databases cloned from a prepared one, a whole-database dump to
compare two runs, and what PostgreSQL says a worker's backend is doing."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, inspect, text

from demo.scale_procs import Processes
from tests.conftest import PG_ADMIN_URL

SVCARD = Path(sys.executable).with_name("svcard")
# Columns whose values legitimately differ between a killed-then-rerun database and a
# clean run's: serial ids (a rolled-back transaction still consumed sequence values),
# clock stamps (``*_at``) and the name of the worker that applied a file.
VOLATILE = {"id", "worker"}


def admin(database: str | None = None) -> psycopg.Connection:
    """An autocommit connection to the server (to ``database``: relation names in
    ``pg_locks`` resolve only in their own database's ``pg_class``)."""
    url = PG_ADMIN_URL if database is None else f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}"
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def db_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def db_url(name: str, application: str | None = None) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}" + (f"?application_name={application}" if application else "")


def create_db(template: str | None = None) -> str:
    """A new database (a copy of ``template`` when given: nobody may be connected to it)."""
    name = f"svcard_xo_{uuid.uuid4().hex[:10]}"
    with admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def drop_db(name: str) -> None:
    with admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dump(name: str) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, without the volatile columns (``VOLATILE``, ``*_at``)."""
    engine = create_engine(db_url(name))
    out: dict[str, list[tuple]] = {}
    try:
        insp = inspect(engine)
        with engine.connect() as conn:
            for table in sorted(insp.get_table_names()):
                cols = [
                    c["name"]
                    for c in insp.get_columns(table)
                    if c["name"] not in VOLATILE and not c["name"].endswith("_at")
                ]
                rows = conn.execute(text(f'SELECT {", ".join(cols)} FROM "{table}"')).all()  # noqa: S608
                out[table] = sorted((tuple(r) for r in rows), key=repr)
    finally:
        engine.dispose()
    return out


def diff(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> list[str]:
    """Tables whose contents differ, with the first differing row of each side."""
    out = []
    for table in sorted(set(a) | set(b)):
        ra, rb = a.get(table, []), b.get(table, [])
        if ra != rb:
            only_a = [r for r in ra if r not in rb][:1]
            only_b = [r for r in rb if r not in ra][:1]
            out.append(f"{table}: {len(ra)} vs {len(rb)} rows; e.g. {only_a} vs {only_b}")
    return out


class Workers(Processes):
    """``svcard worker`` subprocesses, each in its own process group with its own log
    (``demo.scale_procs.Processes``), stopped within three seconds by :meth:`stop_all`."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        super().__init__(env, logs, grace=3)

    def start(self, name: str, *, burst: bool = False, **env: str) -> subprocess.Popen:
        args = [str(SVCARD), "worker", "--name", f"{name}-{uuid.uuid4().hex[:6]}"]
        return super().start(name, args + (["--burst"] if burst else []), **env)

    def wait(self, name: str, timeout: float) -> int:
        return self.procs[name].wait(timeout=timeout)


@contextmanager
def workers(env: dict[str, str], logs: Path) -> Iterator[Workers]:
    w = Workers(env, logs)
    try:
        yield w
    finally:
        w.stop_all()


# ------------------------------------------------------------------ Redis


def backends(database: str, application: str) -> list[dict]:
    """The database's backends for one application name, with their transaction state
    and the relations they hold RowExclusiveLock on (i.e. wrote to in this transaction)."""
    with admin(database) as conn:
        rows = conn.execute(
            """
            SELECT a.pid, a.state, a.backend_xid IS NOT NULL, a.query,
                   coalesce(array_agg(c.relname) FILTER (WHERE l.granted AND l.mode = 'RowExclusiveLock' AND c.relname IS NOT NULL),
                            '{}')
            FROM pg_stat_activity a
            LEFT JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'relation'
            LEFT JOIN pg_class c ON c.oid = l.relation
            WHERE a.datname = %s AND a.application_name = %s
            GROUP BY a.pid, a.state, a.backend_xid, a.query
            """,
            (database, application),
        ).fetchall()
    return [dict(pid=r[0], state=r[1], writing=r[2], query=r[3], wrote=set(r[4])) for r in rows]


def waiting_on_locks(database: str) -> set[str]:
    """Application names of the database's backends waiting for a lock right now."""
    with admin(database) as conn:
        rows = conn.execute(
            "SELECT application_name FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (database,),
        ).fetchall()
    return {r[0] for r in rows}
