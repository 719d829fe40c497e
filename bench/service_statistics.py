"""The statistics' reads at Shenzhen's size, next to the direct ``GROUP BY`` they replace.

    .venv/bin/python bench/service_statistics.py [--volunteers 200000] [--sessions 5000000]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]

The data, in a fresh PostgreSQL database migrated by the gateway: ``--volunteers``
volunteers (their sealed columns hold a placeholder: nothing here reads them), 500 POS
terminals of 60 organisations in the city's districts, and ``--sessions`` closed service
sessions over 2026 (Beijing time) of 30 minutes to four hours, at a terminal or (one in
twelve) outside the city, made by ``generate_series`` with a fixed seed.

Measured:
- the statistics job (``statistics.refresh_month``) for each month of the year, in its
  own transaction, as the hourly job runs it;
- the API's three reads (``statistics.year``, a month's districts, the year's
  organisations), median of 25 runs each, next to the direct ``GROUP BY`` over the
  sessions that would answer the same question (median of 3).

Target (issue 14): each read under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics as stats
import sys
import time
import uuid
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

YEAR = 2026
DISTRICTS = ("440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310",
             "440311", "DAPENG", "SHENSHAN")  # fmt: skip

FILL = f"""
SELECT setseed(0.42);
INSERT INTO volunteers (id, provisional_no, volunteer_no, status, name, id_type, id_number, id_hash,
    gender, birth_date, mobile, address, emergency_name, emergency_mobile, opt_transit, opt_health,
    applied_at, official_since, created_at, updated_at)
SELECT i, 'P' || lpad(i::text, 15, '0'), (2000000000 + i)::text, 'OFFICIAL', '\\x00', 'RIC', '\\x00',
    'h' || i, 'M', '1990-01-01', '\\x00', '\\x00', '\\x00', '\\x00', false, false,
    timestamptz '{YEAR - 1}-01-01 00:00+08' + random() * interval '730 days',
    date '{YEAR}-01-01' + (random() * 364)::int, now(), now()
FROM generate_series(1, %(volunteers)s) i;
INSERT INTO terminals (terminal_id, organisation, district, active, created_at, updated_at)
SELECT 'POS-' || lpad(i::text, 4, '0'), 'organisation ' || (i %% 60),
    (ARRAY{list(DISTRICTS)})[1 + i %% {len(DISTRICTS)}], true, now(), now()
FROM generate_series(1, 500) i;
INSERT INTO service_sessions (volunteer_id, kind, activity, check_in, check_out, minutes, district,
    terminal_id, created_at)
SELECT v, 'SESSION', 'bench', t, t + m * interval '1 minute', m,
    CASE WHEN outside THEN 'OUTSIDE' ELSE (ARRAY{list(DISTRICTS)})[1 + pos %% {len(DISTRICTS)}] END,
    CASE WHEN outside THEN NULL ELSE 'POS-' || lpad(pos::text, 4, '0') END, now()
FROM (
    SELECT 1 + (random() * (%(volunteers)s - 1))::int AS v,
        timestamptz '{YEAR}-01-01 00:00+08' + random() * interval '364 days' AS t,
        30 + (random() * 210)::int AS m,
        random() < 1.0 / 12 AS outside,
        1 + (random() * 499)::int AS pos
    FROM generate_series(1, %(sessions)s)
) s;
ANALYZE;
"""

DIRECT = {
    "year": f"""
        SELECT date_trunc('month', check_in AT TIME ZONE 'Asia/Shanghai') AS m, count(*), sum(minutes),
            count(DISTINCT volunteer_id)
        FROM service_sessions
        WHERE kind = 'SESSION' AND check_out IS NOT NULL
          AND check_in >= timestamptz '{YEAR}-01-01 00:00+08' AND check_in < timestamptz '{YEAR + 1}-01-01 00:00+08'
        GROUP BY m""",
    "districts": f"""
        SELECT coalesce(district, ''), count(*), sum(minutes), count(DISTINCT volunteer_id)
        FROM service_sessions
        WHERE kind = 'SESSION' AND check_out IS NOT NULL
          AND check_in >= timestamptz '{YEAR}-11-01 00:00+08' AND check_in < timestamptz '{YEAR}-12-01 00:00+08'
        GROUP BY 1""",
    "organisations": f"""
        SELECT date_trunc('month', s.check_in AT TIME ZONE 'Asia/Shanghai') AS m,
            coalesce(t.organisation, ''), count(*), sum(s.minutes), count(DISTINCT s.volunteer_id)
        FROM service_sessions s LEFT JOIN terminals t ON t.terminal_id = s.terminal_id
        WHERE s.kind = 'SESSION' AND s.check_out IS NOT NULL
          AND s.check_in >= timestamptz '{YEAR}-01-01 00:00+08' AND s.check_in < timestamptz '{YEAR + 1}-01-01 00:00+08'
        GROUP BY 1, 2""",
}


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return stats.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--volunteers", type=int, default=200_000)
    ap.add_argument("--sessions", type=int, default=5_000_000)
    ap.add_argument(
        "--pg", default=os.environ.get("SVCARD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    args = ap.parse_args()
    import psycopg
    from sqlalchemy import text

    from gateway import context, migrate
    from gateway import settings as settings_mod
    from gateway.db import transaction
    from gateway.models.statistics import StatDimension
    from gateway.services import statistics

    name = f"svcard_bench_stats_{uuid.uuid4().hex[:8]}"
    base = args.pg.rsplit("/", 1)[0]
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        db_url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
        work = Path(f"/tmp/{name}")
        rt = context.build(settings_mod.load(environ={}, var_dir=work, database_url=db_url))
        context.install(rt)
        migrate.upgrade(rt.engine)
        print(f"making {args.volunteers:,} volunteers, 500 terminals, {args.sessions:,} sessions in {YEAR} ...",
              flush=True)  # fmt: skip
        t = time.perf_counter()
        with psycopg.connect(f"{base}/{name}", autocommit=True) as c:
            for stmt in FILL.split(";\n"):
                if stmt.strip():
                    c.execute(stmt, {"volunteers": args.volunteers, "sessions": args.sessions})
        print(f"  made in {time.perf_counter() - t:.0f} s")

        job_s = []
        for m in range(1, 13):
            t = time.perf_counter()
            with transaction(rt.sessions) as s:
                row = statistics.refresh_month(s, date(YEAR, m, 1))
            job_s.append(time.perf_counter() - t)
            print(f"  statistics job, {YEAR}-{m:02d}: {row.sessions:,} sessions by {row.volunteers:,} "
                  f"volunteers, {job_s[-1]:.2f} s")  # fmt: skip
        print(f"statistics job: median {stats.median(job_s):.2f} s a month, longest {max(job_s):.2f} s "
              f"(the hourly run does two months)")  # fmt: skip

        nov = date(YEAR, 11, 1)
        ours = {
            "year": lambda s: statistics.year(s, YEAR),
            "districts": lambda s: statistics.cells(s, StatDimension.DISTRICT, nov, nov),
            "organisations": lambda s: statistics.cells(
                s, StatDimension.ORGANISATION, date(YEAR, 1, 1), date(YEAR, 12, 1)
            ),
        }
        print(f"{'read':<14} {'aggregates':>12} {'direct GROUP BY':>16} {'ratio':>8}  target < 100 ms")
        worst = 0.0
        with transaction(rt.sessions) as s:
            for key, read in ours.items():
                a = _median_ms(lambda r=read: r(s), 25)
                d = _median_ms(lambda q=DIRECT[key]: s.execute(text(q)).all(), 3)
                worst = max(worst, a)
                print(f"{key:<14} {a:>9.2f} ms {d:>13.0f} ms {d / a:>7.0f}x  {'ok' if a < 100 else 'OVER'}")
        print(f"slowest read: {worst:.2f} ms ({'within' if worst < 100 else 'over'} the 100 ms target)")
        rt.engine.dispose()
    finally:
        context.install(None)
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
