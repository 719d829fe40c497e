"""`svcard files sample --out DIR` then `svcard files check` on what it wrote, as the
README shows it: the sample lands under its partner file name, which `check` checks."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner

from gateway import timeutil
from gateway.cli.files import cli


def test_sample_into_a_directory_is_named_as_the_partner_names_it_and_checks_valid(tmp_path):
    res = CliRunner().invoke(
        cli, ["sample", "SWIPE", "--records", "40", "--date", "20261130", "--out", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["SWIPE_BOCSZ_20261130_001.txt"]  # and no partial file left behind
    out = CliRunner().invoke(cli, ["check", str(tmp_path / written[0])])
    assert out.exit_code == 0 and "40 records, 40 valid" in out.output


def test_check_of_a_renamed_sample_is_refused_for_its_name_unless_given(tmp_path):
    path = tmp_path / "f.txt"
    res = CliRunner().invoke(
        cli, ["sample", "SWIPE", "--records", "5", "--date", "20261130", "--out", str(path)]
    )
    assert res.exit_code == 0
    refused = CliRunner().invoke(cli, ["check", str(path)])
    assert refused.exit_code == 2 and "INVALID E04 file name" in refused.output
    named = CliRunner().invoke(cli, ["check", str(path), "--name", "SWIPE_BOCSZ_20261130_001.txt"])
    assert named.exit_code == 0


def test_sample_default_date_is_the_beijing_business_date(tmp_path):
    timeutil.travel_to(datetime(2026, 11, 30, 20, 0, tzinfo=UTC))  # 2026-12-01 04:00 in Beijing
    try:
        res = CliRunner().invoke(cli, ["sample", "SWIPE", "--records", "1", "--out", str(tmp_path)])
    finally:
        timeutil.reset_clock()
    assert res.exit_code == 0, res.output
    assert [p.name for p in tmp_path.iterdir()] == ["SWIPE_BOCSZ_20261201_001.txt"]
