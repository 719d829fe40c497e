"""`svcard demo`, as a newcomer runs it: a short month (a few days, a few volunteers) end to
end through the real jobs, SFTP and SOAP servers on loopback and real envelopes."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_short_demo_runs_every_partner_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVCARD_")}
    env["SVCARD_LOG_FORMAT"] = "json"  # the log as production writes it
    svcard = Path(sys.executable).with_name("svcard")
    proc = subprocess.run(
        [
            str(svcard),
            "demo",
            "--volunteers",
            "15",
            "--days",
            "4",
            "--start",
            "20261102",
            "--dir",
            str(tmp_path / "var" / "demo"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    # the sample's deliberately bad rows are refused with line and column
    assert "refused line:" in out
    # one progress line per simulated day
    for day in ("2026-11-02 Mon", "2026-11-03 Tue", "2026-11-04 Wed", "2026-11-05 Thu"):
        assert day in out
    summary = out[out.index("== summary") :]
    assert "card pipeline:" in summary
    # the bank acknowledged our card orders, and we applied the bank's results
    assert "-> CARDORDER accepted" in summary and "<- CARDRESULT processed" in summary
    assert "SZT" in summary and "-> TRANSITREQ" in summary
    assert "BOCINS -> INSROSTER accepted" in summary
    # the 3rd: last month's expected donations, sent early by a recorded operator decision
    assert "DONATIONEXP 202610 sent early" in out and "-> DONATIONEXP accepted" in summary
    assert "<- SWIPE processed" in summary
    assert "health function on cards:" in summary  # none on yet: no card is collected in four days
    # the POS terminals, loaded by the production loader (a bad row refused), are where the
    # volunteers serve: the statistics job's aggregates have sessions and districts
    assert "12 POS terminals loaded in 10 districts (1 row refused: line:14:district:UNKNOWN_DISTRICT" in out
    assert re.search(r"service 2026-11: \d+ h in [1-9]\d* sessions by [1-9]\d* volunteers", summary), summary
    by_district = summary[summary.index("service by district 2026-11: ") :].splitlines()[0]
    assert "none yet" not in by_district and "区" in by_district, by_district
    # the demo's full log went to a file, not to the console; no ID number, mobile or name
    # of the imported volunteers appears in either
    log = (tmp_path / "var" / "demo" / "demo.log").read_text()
    assert "applied" in log
    records = [json.loads(line) for line in log.splitlines()]  # one JSON object a line
    assert {"time", "level", "logger", "message", "partner", "job_id"} <= set(records[0])
    assert any(r["partner"] == "BOCSZ" and r["job_id"] for r in records)  # a job's context
    assert any(r["file_id"] for r in records)  # an inbound file's
    with open(tmp_path / "var" / "demo" / "import" / "volunteers.csv", encoding="utf-8") as fh:
        people = list(csv.DictReader(fh))
    secrets_ = {p[k] for p in people for k in ("id_number", "mobile", "emergency_mobile", "name") if p[k]}
    assert len(secrets_) > 30
    leaked = [s for s in secrets_ if s in log or s in out]
    assert leaked == []
