"""The foundation's commands, through the real `svcard` entry point: volunteers import,
cards show/pipeline/overdue/at-risk, calendar show/load, demo."""

from __future__ import annotations

import csv

from gateway.services import sample


def test_import_reports_bad_rows_and_is_idempotent(run, tmp_path) -> None:
    path = sample.generate(tmp_path / "s", 8, seed=11, applicants=0.0)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[1]["emergency_mobile"] = "999"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    first = run("volunteers", "import", str(path), "--business-date", "20261128")
    assert first.exit_code == 1
    assert "7 created, 0 updated, 0 unchanged, 1 skipped; 7 NEW card orders" in first.output
    assert "skipped line:3:emergency_mobile:MOBILE" in first.output
    second = run("volunteers", "import", str(path), "--business-date", "20261128")
    assert "0 created, 0 updated, 7 unchanged, 1 skipped; 0 NEW card orders" in second.output

    no = rows[0]["volunteer_no"]
    shown = run("cards", "show", no)
    assert shown.exit_code == 0 and f"volunteer {no}  OFFICIAL" in shown.output and "ORDERED" in shown.output
    for pii in ("name", "id_number", "mobile", "address", "emergency_name"):
        assert rows[0][pii] not in shown.output + first.output
    pipeline = run("cards", "pipeline")
    assert "  ORDERED               7\n" in pipeline.output and "orders: PENDING 7" in pipeline.output
    missing = run("cards", "show", "9999999999")
    assert missing.exit_code == 1 and "VOLUNTEER_NOT_FOUND" in missing.output


def test_calendar_show_load_and_refusal(run, tmp_path) -> None:
    shown = run("calendar", "show", "2027")
    assert "2027: NOT LOADED" in shown.output
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind,name\n2027-02-30,holiday,x\n", encoding="utf-8")
    refused = run("calendar", "load", "2027", str(bad))
    assert refused.exit_code == 1 and "bad.csv:2:date:not a date" in refused.output
    good = tmp_path / "cal2027.csv"
    good.write_text("date,kind,name\n2027-02-08,holiday,春节\n2027-02-20,workday,调休\n", encoding="utf-8")
    loaded = run("calendar", "load", "2027", str(good))
    assert loaded.exit_code == 0 and "1 holidays, 1 make-up working days" in loaded.output
    shown = run("calendar", "show", "2027")
    assert "loaded from file cal2027.csv" in shown.output and "2027-02-20 Sat  workday" in shown.output
    assert run("calendar", "show", "2027", "--csv").output.startswith("date,kind,name\n2027-02-08,holiday")


def test_overdue_and_at_risk_commands_answer_for_a_business_date(run) -> None:
    assert "no order overdue on 2026-11-28" in run("cards", "overdue", "--business-date", "20261128").output
    assert "no card at risk on 2026-11-28" in run("cards", "at-risk", "--business-date", "20261128").output
    assert "no order due" in run("cards", "due-soon", "--business-date", "20261128").output
    bad = run("cards", "overdue", "--business-date", "2026-11-28")
    assert bad.exit_code == 2 and "YYYYMMDD" in bad.output
