"""`svcard files check` and `svcard files sample` as an operator runs them."""

from __future__ import annotations

from click.testing import CliRunner

from gateway.cli.files import cli
from tests.schemas.helpers import SWIPE_HEADER, SWIPE_LINES, build


def _check(path, *args):
    return CliRunner().invoke(cli, ["check", str(path), *args])


def test_sample_then_check_is_valid(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["sample", "SWIPE", "--records", "25", "--seed", "3", "--date", "20270111"])
    assert res.exit_code == 0, res.output
    again = runner.invoke(cli, ["sample", "SWIPE", "--records", "25", "--seed", "3", "--date", "20270111"])
    assert again.stdout_bytes == res.stdout_bytes  # same seed, same bytes
    path = tmp_path / "SWIPE_BOCSZ_20270111_001.txt"
    path.write_bytes(res.stdout_bytes)
    out = _check(path)
    assert out.exit_code == 0
    assert "SWIPE BOCSZ->SVA business date 20270111 SEQ 001: 25 records, 25 valid" in out.output


def test_cardorder_package_sample_to_out_and_check(tmp_path):
    path = tmp_path / "CARDORDER_SVA_20261130_001.zip"
    res = CliRunner().invoke(cli, ["sample", "CARDORDER", "--records", "3", "--date", "20261130",
                                   "--out", str(path)])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = _check(path)
    assert out.exit_code == 0 and "3 records, 3 valid" in out.output


def test_record_errors_exit_1_and_are_listed(tmp_path):
    path = tmp_path / "SWIPE_BOCSZ_20270111_001.txt"
    path.write_bytes(build(SWIPE_HEADER, [SWIPE_LINES[0].replace("|5812|", "|581|"), *SWIPE_LINES[1:]]))
    out = _check(path)
    assert out.exit_code == 1
    assert out.output.splitlines()[0] == "line:2:mcc:not four digits"


def test_whole_file_invalid_exits_2_with_the_code(tmp_path):
    path = tmp_path / "SWIPE_BOCSZ_20270111_001.txt"
    path.write_bytes(build(SWIPE_HEADER, SWIPE_LINES, trailer="T|2|10"))
    out = _check(path)
    assert out.exit_code == 2 and "INVALID E04 record count differs from D lines" in out.output
    assert _check(path, "--sender", "SZT").output.split()[2] == "E05"
