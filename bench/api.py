"""The API's main reads under load, next to a bare Flask endpoint on the same gunicorn.

    .venv/bin/python bench/api.py [--duration 10] [--connections 8] [--demo-dir var/bench-api]

The data: the demo's month (``svcard demo`` into ``--demo-dir``, made once and reused).
The server: gunicorn, two sync workers (this machine has two cores), on the demo's
database, serving the gateway's app; beside it, the same gunicorn serving a bare Flask
app whose one route answers ``{"status": "ok"}`` — the floor no route can beat.

The load: ``wrk`` (Debian's) with ``--connections`` connections for ``--duration``
seconds per route, each request with an operator's token: ``/api/whoami``,
``/api/cards?limit=20``, ``/api/volunteers/{n}``, ``/api/exchanges/files?limit=20``,
``/api/donations/volunteers/{n}`` and one idempotent POST replayed (the same
Idempotency-Key: the answer comes from the idempotency record).

Printed: requests/s, p50 and p99 latency per route, and requests/s as a ratio to the
bare endpoint's. Targets (issue 17): every read ≥ 0.3x bare Flask, p99 ≤ 50 ms at 8
connections.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent

BARE = """
from flask import Flask
app = Flask("bare")

@app.get("/bare")
def bare():
    return {"status": "ok"}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _demo(demo_dir: Path) -> None:
    if (demo_dir / "svcard.db").exists():
        return
    print(f"making the demo's data in {demo_dir} (once)...", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVCARD_")}
    subprocess.run([str(VENV_BIN / "svcard"), "demo", "--dir", str(demo_dir)], check=True, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def _token(demo_dir: Path) -> tuple[str, str, str]:
    """An operator token, a volunteer number and a platform token, on the demo's database."""
    from sqlalchemy import select

    from gateway import context
    from gateway import settings as settings_mod
    from gateway.api.tokens import create_token
    from gateway.db import transaction
    from gateway.models import Volunteer

    rt = context.build(settings_mod.load(environ={}, var_dir=demo_dir))
    with transaction(rt.sessions) as s:
        stamp = time.time_ns()
        op = create_token(s, name=f"bench-op-{stamp}", role="operator")[1]
        pl = create_token(s, name=f"bench-pl-{stamp}", role="platform")[1]
        number = s.scalar(select(Volunteer.volunteer_no).where(Volunteer.volunteer_no.is_not(None)).limit(1))
    rt.engine.dispose()
    return op, pl, number


def _serve(app: str, port: int, cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"gunicorn {app} did not start: {proc.stderr.read().decode()[-2000:]}")


_LAT = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def _wrk(
    url: str, headers: dict[str, str], duration: int, connections: int, script: Path | None = None
) -> dict:
    args = ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{duration}s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    lat = {p: float(v) * scale[u] for p, v, u in _LAT.findall(out)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": lat.get("50"),
        "p99": lat.get("99"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--demo-dir", type=Path, default=ROOT / "var" / "bench-api")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/api.py needs wrk: apt-get install wrk")
    demo_dir = args.demo_dir.resolve()
    _demo(demo_dir)
    op, platform, number = _token(demo_dir)
    work = Path(tempfile.mkdtemp(prefix="svcard-bench-api-"))
    (work / "bare.py").write_text(BARE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVCARD_")}
    env.update(SVCARD_VAR_DIR=str(demo_dir), SVCARD_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    post = work / "post.lua"
    post.write_text('wrk.method = "POST"\nwrk.body = "{\\"course\\": \\"bench\\", \\"minutes\\": 30}"\n'
                    'wrk.headers["Content-Type"] = "application/json"\n')  # fmt: skip
    gw_port, bare_port = _free_port(), _free_port()
    gateway = _serve("wsgi:app", gw_port, ROOT, env)
    bare = _serve("bare:app", bare_port, work, env)
    try:
        auth = {"Authorization": f"Bearer {op}"}
        floor = _wrk(f"http://127.0.0.1:{bare_port}/bare", {}, args.duration, args.connections)
        routes = [
            ("GET /api/whoami", "/api/whoami", auth, None),
            ("GET /api/cards?limit=20", "/api/cards?limit=20", auth, None),
            ("GET /api/volunteers/{n}", f"/api/volunteers/{number}", auth, None),
            ("GET /api/exchanges/files?limit=20", "/api/exchanges/files?limit=20", auth, None),
            ("GET /api/donations/volunteers/{n}", f"/api/donations/volunteers/{number}", auth, None),
            ("POST training (idempotent replay)", f"/api/volunteers/{number}/training",
             {"Authorization": f"Bearer {platform}", "Idempotency-Key": "bench-replay"}, post),
        ]  # fmt: skip
        print(f"{'route':<38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x bare':>7}")
        print(
            f"{'bare Flask (the floor)':<38} {floor['rps']:>8.0f} {floor['p50']:>8.1f} {floor['p99']:>8.1f} {1:>7.2f}"
        )
        results = {}
        for label, path, headers, script in routes:
            r = _wrk(f"http://127.0.0.1:{gw_port}{path}", headers, args.duration, args.connections, script)
            results[label] = r
            note = f"  ({r['errors']} non-2xx)" if r["errors"] else ""
            print(
                f"{label:<38} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['rps'] / floor['rps']:>7.2f}{note}"
            )
        print(json.dumps({"floor": floor, "routes": results}))
    finally:
        for proc in (gateway, bare):
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
