"""`svcard terminals load` and `list` through the real entry point: bad rows listed with
line and field and the exit status 1, the rest loaded; a reload changes nothing."""

from __future__ import annotations

import pytest

CSV = (
    "terminal_id,organisation,district,site_name,latitude,longitude,active\n"
    "POS-FT-0001,福田区义工联,福田区,市民中心,22.5431,114.0579,Y\n"
    "POS-DP-0001,大鹏新区义工联,大鹏新区,较场尾,22.58,114.47,Y\n"
    "POS-BAD-1,宝安区义工联,东莞市,,,,\n"
)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_load_lists_bad_rows_keeps_the_rest_and_is_idempotent(run, tmp_path) -> None:
    path = tmp_path / "pos.csv"
    path.write_text(CSV, encoding="utf-8")
    first = run("terminals", "load", str(path))
    assert first.exit_code == 1
    assert "pos.csv: 3 rows: 2 created, 0 updated, 0 unchanged, 1 skipped" in first.output
    assert "skipped line:4:district:UNKNOWN_DISTRICT" in first.output
    second = run("terminals", "load", str(path))
    assert "0 created, 0 updated, 2 unchanged, 1 skipped" in second.output
    listed = run("terminals", "list", "--district", "DAPENG")
    assert listed.exit_code == 0 and "POS-DP-0001" in listed.output and "POS-FT-0001" not in listed.output
    header = tmp_path / "bad.csv"
    header.write_text("terminal_id,organisation\n", encoding="utf-8")
    refused = run("terminals", "load", str(header))
    assert refused.exit_code == 1 and "HEADER" in refused.output
