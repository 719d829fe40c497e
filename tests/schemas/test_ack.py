"""The ACK builder: ACCEPTED, PARTIAL with capped text, REJECTED with the code."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from schemas import FileError, RecordError, read
from schemas.ack import accepted, build_ack, error_text, outcome_of, partial, rejected
from schemas.reader import Summary

SHA = "3f" * 32


def test_ack_file_for_three_outcomes_reads_back():
    errors = [RecordError(5, "mcc", "not four digits"), RecordError(9, "record", "bad")]
    outcomes = [
        accepted("CARDSTATUS_BOCSZ_20270110_001.txt.p7m", SHA),
        partial("SWIPE_BOCSZ_20270110_001.txt.p7m", SHA, errors),
        rejected("CARDRESULT_BOCSZ_20270110_001.txt.p7m", SHA, "E04", "control sum: differs|x"),
    ]
    data, result = build_ack(
        outcomes,
        sender="SVA",
        receiver="BOCSZ",
        seq=1,
        written_at=datetime(2027, 1, 11, 22, 15, 3, 999, tzinfo=UTC),
    )
    assert result.refused == []
    # Written at 06:15:03 Beijing on 12 January: that is the ACK's business date.
    assert result.file_name == "ACK_SVA_20270112_001.txt"
    assert data.startswith(b"H|ACK|1.0|SVA|BOCSZ|20270112|001|20270112061503\r\n")
    assert data.endswith(b"T|3|0\r\n")
    rows = [r.data for r in read(io.BytesIO(data), file_name=result.file_name)]
    assert [r["status"] for r in rows] == ["ACCEPTED", "PARTIAL", "REJECTED"]
    assert rows[0]["error_code"] is None and rows[0]["error_text"] == ""
    assert rows[1]["error_code"] == "E07"
    assert rows[1]["error_text"] == "line:5:mcc:not four digits;line:9:record:bad"
    assert rows[2]["error_code"] == "E04" and rows[2]["error_text"] == "control sum differs/x"


def test_partial_text_is_cut_after_the_last_whole_entry_within_1000_characters():
    errors = [RecordError(n, "mobile", "not a mainland mobile number") for n in range(2, 200)]
    text = error_text(errors)
    assert len(text) <= 1000
    entries = text.split(";")
    assert entries == [str(e) for e in errors[: len(entries)]]
    assert len(text) + 1 + len(str(errors[len(entries)])) > 1000  # the next one did not fit
    exact = ["x" * 499, "y" * 500]
    assert error_text(exact) == "x" * 499 + ";" + "y" * 500  # exactly 1,000 fits


def test_outcome_of_a_read_file():
    summary = Summary("SWIPE", count=3, good_records=3)
    assert outcome_of("F.txt.p7m", SHA, summary=summary).status == "ACCEPTED"
    summary.error_count, summary.errors = 1, [RecordError(2, "mcc", "not four digits")]
    assert outcome_of("F.txt.p7m", SHA, summary=summary).error_text == "line:2:mcc:not four digits"
    rej = outcome_of("F.txt.p7m", SHA, error=FileError("E05", "sender or receiver not the channel's"))
    assert (rej.status, rej.error_code) == ("REJECTED", "E05")


def test_unwritable_outcome_is_refused_and_the_rest_go():
    outcomes = [accepted("bad\nname.txt.p7m", SHA), accepted("GOOD_BOCSZ_20270110_001.txt.p7m", SHA)]
    data, result = build_ack(
        outcomes, sender="SVA", receiver="SZT", seq=2, written_at=datetime(2027, 1, 12, 9)
    )
    assert [(r.index, r.field) for r in result.refused] == [(0, "original_file_name")]
    assert result.count == 1 and data.endswith(b"T|1|0\r\n")


def test_error_text_parses_back_into_the_record_errors_it_was_built_from():
    from schemas.ack import error_text, parse_error_text
    from schemas.errors import RecordError

    errors = [
        RecordError(3, "mobile", "not a mainland mobile number"),
        RecordError(7, "record", "field count"),
    ]
    assert parse_error_text(error_text(errors)) == errors
    assert parse_error_text("") == [] and parse_error_text(None) == []
