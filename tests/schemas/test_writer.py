"""Writing: round trips for every type, and refusals that never alter a value."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from schemas import TYPES, Record, read, read_package, write, write_bytes
from schemas.samples import sample_records, write_sample

D = date(2027, 1, 11)
CREATED = datetime(2027, 1, 12, 4, 45, 1)
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "partners" / "examples"
if not EXAMPLES.is_dir():
    EXAMPLES = Path("/work/shared/partners/examples")


def _parties(file_type):
    return sorted(TYPES[file_type].directions)[0]


@pytest.mark.parametrize("file_type", sorted(TYPES))
def test_round_trip_every_type(file_type):
    records = list(sample_records(file_type, 40, seed=7, business_date=D))
    sender, receiver = _parties(file_type)
    out = io.BytesIO()
    if file_type == "CARDORDER":
        result = write_sample(out, file_type, 40, seed=7, business_date=D)
        reader = read_package(out.getvalue(), file_name=result.file_name)
    else:
        result = write(out, file_type, records, sender=sender, receiver=receiver,
                       business_date=D, seq=3, created_time=CREATED)  # fmt: skip
        reader = read(io.BytesIO(out.getvalue()), file_name=result.file_name)
    assert result.refused == [] and result.count == 40
    items = list(reader)
    assert all(isinstance(i, Record) for i in items)
    assert [i.data for i in items] == records
    assert reader.summary.control_sum == result.control_sum
    rt = TYPES[file_type]
    if rt.money_field:
        assert result.control_sum == sum(r[rt.money_field] for r in records)


def test_written_file_is_gb18030_crlf_with_computed_trailer():
    records = list(sample_records("SWIPE", 5, seed=1, business_date=D))
    data, result = write_bytes("SWIPE", records, sender="BOCSZ", receiver="SVA", business_date=D,
                               seq=12, created_time=CREATED)  # fmt: skip
    lines = data.split(b"\r\n")
    assert lines[0] == b"H|SWIPE|1.0|BOCSZ|SVA|20270111|012|20270112044501"
    assert lines[-1] == b"" and b"\n" not in b"".join(lines)
    assert lines[-2] == f"T|5|{sum(r['donation_fen'] for r in records)}".encode()
    assert result.file_name == "SWIPE_BOCSZ_20270111_012.txt"


def test_spec_examples_are_rewritten_byte_for_byte():
    files = sorted(EXAMPLES.glob("*.txt"))
    assert len(files) == 11, f"spec examples not found in {EXAMPLES}"  # never pass on none
    for path in files:
        reader = read(path)
        records = [r.data for r in reader]
        h = reader.header
        data, result = write_bytes(h.file_type, records, sender=h.sender, receiver=h.receiver,
                                   business_date=h.business_date, seq=h.seq,
                                   created_time=h.created_time)  # fmt: skip
        assert data == path.read_bytes(), path.name


def _swipe(**changes):
    record = next(iter(sample_records("SWIPE", 1, seed=2, business_date=D)))
    record.update(changes)
    return record


@pytest.mark.parametrize(
    "changes,field,reason",
    [
        ({"card_id": "K7Q2M9X4B1C8D3E|"}, "card_id", "control character or separator"),
        ({"card_id": "K7Q2M9X4B1C8D3\r\n"}, "card_id", "control character or separator"),
        ({"mcc": "54\x0011"}, "mcc", "control character or separator"),
        ({"card_id": "K7Q2M9X4B1C8D3\ue000"}, "card_id", "private-use character"),
        ({"card_id": " K7Q2M9X4B1C8D3E"}, "card_id", "not 16 of A-Z0-9"),
        ({"donation_fen": 10.0}, "donation_fen", "not an integer"),
        ({"donation_fen": True}, "donation_fen", "not an integer"),
        ({"txn_time": date(2027, 1, 11)}, "txn_time", "not a datetime"),
        ({"txn_time": datetime(2027, 1, 11, 8, 0, 0, 500)}, "txn_time", "time has fractions of a second"),
        ({"txn_time": datetime(2027, 1, 12, 8)}, "txn_time", "not within business date"),
        ({"txn_type": "REVERSAL", "orig_txn_id": None}, "orig_txn_id", "required for REVERSAL"),
        ({"volunteer_no": None}, "volunteer_no", "required"),
        ({"colour": "red"}, "record", "unknown field name"),
    ],
)
def test_writer_refuses_and_the_file_goes_on(changes, field, reason):
    good = _swipe()
    bad = _swipe(txn_id="TBAD1", **changes)
    data, result = write_bytes("SWIPE", [bad, good], sender="BOCSZ", receiver="SVA",
                               business_date=D, seq=1, created_time=CREATED)  # fmt: skip
    assert [(r.index, r.field, r.reason) for r in result.refused] == [(0, field, reason)]
    assert result.refused[0].record_id == "TBAD1"
    assert result.count == 1
    items = list(read(io.BytesIO(data), file_name=result.file_name))
    assert [i.data for i in items] == [good]


def test_writer_keeps_aware_times_as_beijing_wall_clock():
    utc = datetime(2027, 1, 11, 0, 30, tzinfo=UTC)
    record = _swipe(txn_time=utc)
    data, result = write_bytes("SWIPE", [record], sender="BOCSZ", receiver="SVA",
                               business_date=D, seq=1, created_time=CREATED)  # fmt: skip
    assert b"|20270111083000|" in data
    got = next(iter(read(io.BytesIO(data), file_name=result.file_name))).data["txn_time"]
    assert got == datetime(2027, 1, 11, 8, 30) and got.tzinfo is None
    assert utc.astimezone(timezone(timedelta(hours=8))).replace(tzinfo=None) == got


def test_writer_refuses_a_wrong_direction():
    with pytest.raises(ValueError):
        write_bytes("SWIPE", [], sender="SVA", receiver="BOCSZ", business_date=D, seq=1,
                    created_time=CREATED)  # fmt: skip


def test_empty_file_is_header_and_zero_trailer():
    data, result = write_bytes("CARDREQ", [], sender="SVA", receiver="BOCSZ", business_date=D,
                               seq=1, created_time=CREATED)  # fmt: skip
    assert data.endswith(b"\r\nT|0|0\r\n") and data.count(b"\r\n") == 2
