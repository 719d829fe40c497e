"""Bulk volunteer import: rows per second, chunked (ours) against row at a time.

Baseline: the same import code with chunks of one row (a look-up and a flush per row,
the way a naive importer works). Ours: chunks of 500 rows (one look-up query per chunk,
one batched INSERT per table). Same generated file, fresh database each run, on SQLite
and, when reachable, on the local PostgreSQL.

    .venv/bin/python bench/volunteer_import.py [--rows 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def run_once(url: str, csv_path: Path, chunk: int, var: Path) -> float:
    from gateway import context, migrate
    from gateway import settings as settings_mod
    from gateway.db import transaction
    from gateway.services import volunteer_import

    s = settings_mod.load(environ={}, var_dir=var, database_url=url)
    rt = context.build(s)
    context.install(rt)
    migrate.upgrade(rt.engine)
    volunteer_import.CHUNK = chunk
    start = time.perf_counter()
    with transaction(rt.sessions) as session:
        report = volunteer_import.import_csv(session, csv_path, actor="bench")
    elapsed = time.perf_counter() - start
    assert report.created == report.rows, report.errors[:3]
    rt.engine.dispose()
    context.install(None)
    return elapsed


def databases(tmp: Path):
    yield "sqlite", lambda i: f"sqlite:///{tmp / f'b{i}.db'}", lambda: None
    try:
        import psycopg

        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        print(f"postgresql: skipped ({type(exc).__name__})")
        return
    names: list[str] = []

    def url(i: int) -> str:
        name = f"svcard_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    def cleanup() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            for n in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)')

    yield "postgresql", url, cleanup


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2000)
    args = ap.parse_args()
    from gateway.services import sample

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        csv_path = sample.generate(tmp / "sample", args.rows, seed=1, applicants=0.1)
        print(f"import of {args.rows} generated volunteers (photos, ~90% official with a NEW order)")
        for name, url, cleanup in databases(tmp):
            try:
                base = run_once(url(0), csv_path, 1, tmp / "v0")
                ours = run_once(url(1), csv_path, 500, tmp / "v1")
            finally:
                cleanup()
            print(
                f"{name:<10} baseline (row at a time) {args.rows / base:8.0f} rows/s   "
                f"ours (chunks of 500) {args.rows / ours:8.0f} rows/s   ratio {base / ours:5.1f}x faster"
            )


if __name__ == "__main__":
    main()
