"""Whole-file failures (E03, E04, E05), their order, line endings and the examples."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from schemas import FileError, Record, read
from tests.schemas.helpers import SWIPE_HEADER, SWIPE_LINES, SWIPE_NAME, build, outcome

EXAMPLES = Path("/work/shared/partners/examples")
if not EXAMPLES.is_dir():  # the repo may be checked out beside shared/ elsewhere
    EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "partners" / "examples"


def code_of(data: bytes, name: str = SWIPE_NAME, **kwargs) -> tuple[str, str]:
    exc = outcome(data, name, **kwargs)[2]
    assert exc is not None, "expected a whole-file error"
    return exc.code, exc.reason


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "schema"])
def test_spec_examples_parse_cleanly(fast):
    files = sorted(EXAMPLES.glob("*.txt"))
    assert len(files) == 11
    for path in files:
        reader = read(path, fast=fast)
        items = list(reader)
        assert all(isinstance(i, Record) for i in items), path.name
        assert reader.summary.count == len(items) > 0


def test_example_values_are_typed():
    reader = read(EXAMPLES / "SWIPE_BOCSZ_20270111_001.txt", sender="BOCSZ", receiver="SVA")
    reversal = [r for r in reader][2].data
    assert reversal["txn_time"].isoformat() == "2027-01-11T12:35:07"
    assert reversal["donation_fen"] == -10 and reversal["orig_txn_id"] == "T20270111000000000000002"
    assert reader.summary.control_sum == 10 and reader.header.seq == 1
    order = next(iter(read(EXAMPLES / "CARDORDER_SVA_20261130_001.txt"))).data
    assert order["name"] == "周志强" and order["replaces_card_id"] is None
    assert order["birth_date"].isoformat() == "1985-06-12"


@pytest.mark.parametrize("eol", ["\r\n", "\n"], ids=["CRLF", "LF"])
def test_crlf_lf_and_mixed_line_endings(eol):
    data = build(SWIPE_HEADER, SWIPE_LINES, eol=eol)
    records, errors, exc = outcome(data)
    assert exc is None and len(records) == 3 and not errors
    mixed = data.replace(b"\r\n", b"\n", 2)
    assert outcome(mixed)[2] is None


def test_last_line_without_line_break():
    data = build(SWIPE_HEADER, SWIPE_LINES).removesuffix(b"\r\n")
    records, errors, exc = outcome(data)
    assert exc is None and len(records) == 3


def test_empty_file_with_header_and_zero_trailer():
    records, errors, exc = outcome(build(SWIPE_HEADER, [], trailer="T|0|0"))
    assert exc is None and records == []


@pytest.mark.parametrize(
    "data",
    [
        build(SWIPE_HEADER, SWIPE_LINES).replace(b"K7Q2", b"K7\x81\x20", 1),
        build(SWIPE_HEADER, SWIPE_LINES) + b"\x81",  # truncated two-byte character
        build(SWIPE_HEADER, SWIPE_LINES).replace(b"QR", b"\xff\xfe", 1),
    ],
    ids=["bad-trail-byte", "truncated-at-end", "0xFF"],
)
def test_invalid_gb18030_bytes_are_e03(data):
    assert code_of(data)[0] == "E03"


@pytest.mark.parametrize("bom", [b"\x84\x31\x95\x33", b"\xef\xbb\xbf"], ids=["gb18030", "utf8"])
def test_byte_order_mark_is_e03(bom):
    assert code_of(bom + build(SWIPE_HEADER, SWIPE_LINES)) == ("E03", "byte order mark")


E04_CASES = {
    "missing trailer": (build(SWIPE_HEADER, SWIPE_LINES, trailer=None), "no trailer"),
    "missing header": (build(SWIPE_LINES[0], SWIPE_LINES[1:]), "first line not a header"),
    "empty file": (b"", "empty file"),
    "count off by one": (build(SWIPE_HEADER, SWIPE_LINES, "T|4|10"), "record count differs from D lines"),
    "wrong control sum": (build(SWIPE_HEADER, SWIPE_LINES, "T|3|20"), "control sum differs from records"),
    "trailer shape": (build(SWIPE_HEADER, SWIPE_LINES, "T|3"), "trailer not T then count then control sum"),
    "field too many": (build(SWIPE_HEADER, [SWIPE_LINES[0] + "|x", *SWIPE_LINES[1:]]), "D line field count"),
    "field too few": (build(SWIPE_HEADER, [SWIPE_LINES[0].rsplit("|", 1)[0]]), "D line field count"),
    "empty line": (build(SWIPE_HEADER, [SWIPE_LINES[0], "", SWIPE_LINES[1]]), "empty line"),
    "other line": (build(SWIPE_HEADER, ["X|1", SWIPE_LINES[0]]), "line not H, D or T"),
    "line after trailer": (build(SWIPE_HEADER, SWIPE_LINES) + SWIPE_LINES[0].encode(), "line after trailer"),
    "blank line at end": (build(SWIPE_HEADER, SWIPE_LINES) + b"\r\n", "line after trailer"),
    "two headers": (build(SWIPE_HEADER, [SWIPE_HEADER, *SWIPE_LINES]), "line not H, D or T"),
    "version": (build(SWIPE_HEADER.replace("|1.0|", "|1.1|"), SWIPE_LINES), "version not 1.0"),
    "SEQ 000": (build(SWIPE_HEADER.replace("|001|", "|000|"), SWIPE_LINES), "SEQ not 001 to 999"),
    "business date": (
        build(SWIPE_HEADER.replace("20270111", "20270230"), SWIPE_LINES),
        "business date not a real date",
    ),
    "created time": (build(SWIPE_HEADER[:-2] + "99", SWIPE_LINES), "created time not YYYYMMDDHHMMSS"),
    "header fields": (build(SWIPE_HEADER + "|x", SWIPE_LINES), "header field count"),
    "unknown type": (build(SWIPE_HEADER.replace("SWIPE", "SWIPES"), SWIPE_LINES), "unknown file type"),
    "line too long": (build(SWIPE_HEADER, ["D|" + "A" * 40_000, *SWIPE_LINES]), "line too long"),
}


@pytest.mark.parametrize("case", sorted(E04_CASES))
def test_whole_file_failures_are_e04(case):
    data, reason = E04_CASES[case]
    assert code_of(data) == ("E04", reason)


@pytest.mark.parametrize(
    "name,reason",
    [
        ("SWIPE_BOCSZ_20270111_002.txt", "file name disagrees with header"),
        ("SWIPE_BOCSZ_20270110_001.txt", "file name disagrees with header"),
        ("CARDSTATUS_BOCSZ_20270111_001.txt", "file name disagrees with header"),
        ("SWIPE_SZT_20270111_001.txt", "file name disagrees with header"),
        ("SWIPE_BOCSZ_20270111_001.zip", "file name extension wrong for type"),
        ("swipe.txt", "file name not TYPE_SENDER_DATE_SEQ.ext"),
    ],
)
def test_file_name_must_match_header(name, reason):
    assert code_of(build(SWIPE_HEADER, SWIPE_LINES), name) == ("E04", reason)


def test_sealed_name_is_accepted():
    assert outcome(build(SWIPE_HEADER, SWIPE_LINES), SWIPE_NAME + ".p7m")[2] is None


def test_expected_type_mismatch_is_e04():
    assert code_of(build(SWIPE_HEADER, SWIPE_LINES), expected_type="CARDSTATUS")[0] == "E04"


def test_wrong_sender_or_receiver_is_e05():
    data = build(SWIPE_HEADER, SWIPE_LINES)
    assert code_of(data, sender="SZT")[0] == "E05"
    assert code_of(data, receiver="BOCSZ")[0] == "E05"
    # A SWIPE can only go from the bank to SVA, whatever the channel.
    bad_pair = build(SWIPE_HEADER.replace("|BOCSZ|SVA|", "|SZVF|SVA|"), SWIPE_LINES)
    assert code_of(bad_pair, "SWIPE_SZVF_20270111_001.txt")[0] == "E05"


def test_code_order_e03_before_e05_before_e04():
    wrong_sender = SWIPE_HEADER.replace("|BOCSZ|SVA|", "|SZT|SVA|")
    # E05 (header) and E04 (wrong count, and the name) in one file: E05.
    assert code_of(build(wrong_sender, SWIPE_LINES, "T|9|0"))[0] == "E05"
    # E05 in the header and an invalid byte near the end: E03.
    bad_bytes = build(wrong_sender, SWIPE_LINES).replace(b"5411|-10", b"5411|\x81\x20", 1)
    assert code_of(bad_bytes)[0] == "E03"
    # An E04 on line 2 and an invalid byte on line 4: E03.
    e04_then_e03 = build(SWIPE_HEADER, [SWIPE_LINES[0] + "|x", SWIPE_LINES[1], SWIPE_LINES[2] + "\x80"])
    e04_then_e03 = e04_then_e03.replace("\x80".encode("gb18030"), b"\x80", 1)
    assert code_of(e04_then_e03)[0] == "E03"


def test_records_before_a_late_whole_file_error_are_yielded_then_the_error():
    """The streaming contract: the caller applies in a transaction and rolls back."""
    reader = read(io.BytesIO(build(SWIPE_HEADER, SWIPE_LINES, "T|3|999")), file_name=SWIPE_NAME)
    seen = []
    with pytest.raises(FileError) as info:
        for item in reader:
            seen.append(item)
    assert len(seen) == 3 and info.value.code == "E04" and info.value.line == 5
    assert reader.summary is None


def test_bad_money_value_is_a_record_error_and_left_out_of_the_control_sum():
    lines = [SWIPE_LINES[0], SWIPE_LINES[1].replace("|10", "|1O")]
    records, errors, exc = outcome(build(SWIPE_HEADER, lines, "T|2|10"))
    assert exc is None and [str(e) for e in errors] == ["line:3:donation_fen:not an integer"]


def test_chinese_text_lengths_count_characters_not_bytes():
    header = "H|INSROSTER|1.0|SVA|BOCINS|20270112|001|20270112030000"
    name30 = "欧阳" * 15  # 30 characters, 60 bytes
    lines = [
        f"D|2019004417|{name30}|PASSPORT|E12345678|19790302|20160511|",
        f"D|2019004418|{name30}娜|PASSPORT|E12345679|19790302|20160511|",
        "D|2019004419|𠀀𪚥|PASSPORT|E12345670|19790302|20160511|",  # four-byte GB18030
    ]
    records, errors, exc = outcome(build(header, lines), "INSROSTER_SVA_20270112_001.txt")
    assert exc is None
    assert [r.data["name"] for r in records] == [name30, "𠀀𪚥"]
    assert [str(e) for e in errors] == ["line:3:name:not 1 to 30 characters"]


def test_summary_counts_records_and_errors():
    lines = [SWIPE_LINES[0], SWIPE_LINES[1].replace("|QR|5411", "|ATM|541")]
    reader = read(io.BytesIO(build(SWIPE_HEADER, lines)), file_name=SWIPE_NAME)
    items = list(reader)
    s = reader.summary
    assert (s.count, s.good_records, s.bad_records, s.error_count) == (2, 1, 1, 2)
    assert s.control_sum == 20 and len(items) == 3
    assert [str(e) for e in s.errors] == ["line:3:channel:not an allowed value", "line:3:mcc:not four digits"]


def test_e03_names_the_line_of_the_bad_bytes_even_across_chunks(monkeypatch):
    import schemas.reader as reader_mod

    data = build(SWIPE_HEADER, SWIPE_LINES).replace(b"5411|-10", b"5411|\x81\x20", 1)
    assert outcome(data)[2].line == 4
    monkeypatch.setattr(reader_mod, "CHUNK", 7)  # lines and characters split across reads
    assert outcome(data)[2].line == 4
    records, errors, exc = outcome(build(SWIPE_HEADER, SWIPE_LINES))
    assert exc is None and len(records) == 3


def test_short_first_read_still_finds_the_bom():
    class Trickle(io.RawIOBase):
        def __init__(self, data):
            self.data = data

        def readable(self):
            return True

        def read(self, n=-1):
            out, self.data = self.data[:1], self.data[1:]
            return out

    bom = b"\xef\xbb\xbf" + build(SWIPE_HEADER, SWIPE_LINES)
    with pytest.raises(FileError) as info:
        list(read(Trickle(bom), file_name=SWIPE_NAME))
    assert info.value.code == "E03"
    assert len(list(read(Trickle(build(SWIPE_HEADER, SWIPE_LINES)), file_name=SWIPE_NAME))) == 3
