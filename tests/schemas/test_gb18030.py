"""GB18030-2022 (partners/README.md "Encoding"), not Python's 2005 codec: the 18 two-byte
codes whose mapping 2022 changed read and write as the standard characters."""

from __future__ import annotations

import io
from datetime import date, datetime

from schemas import read
from schemas.writer import write_bytes
from tests.schemas.helpers import build, outcome

NAME = "CARDRESULT_BOCSZ_20261215_001.txt"
HEADER = "H|CARDRESULT|1.0|BOCSZ|SVA|20261215|001|20261216052011"


def test_changed_two_byte_codes_read_as_the_2022_characters():
    # reason_text with a vertical comma (A6D9) and a CJK character (FE59) as a 2022 bank writes them
    line = "D|O1|2019004417|REJECTED|R02|照片XY||||44005|20261204".encode("gb18030")
    line = line.replace(b"XY", b"\xa6\xd9\xfe\x59")
    data = build(HEADER, []).replace(b"\r\nT|0|0", b"\r\n" + line + b"\r\nT|1|0")
    records, errors, exc = outcome(data, NAME)
    assert exc is None and errors == []
    assert records[0].data["reason_text"] == "照片\ufe10\u9fb4"


def test_writer_sends_the_2022_two_byte_codes():
    record = {
        "volunteer_no": "2019004417", "name": "张\u9fb4", "id_type": "PASSPORT", "id_number": "E12345678",
        "birth_date": date(1990, 1, 1), "cover_from": date(2026, 11, 27),
    }  # fmt: skip
    data, result = write_bytes(
        "INSROSTER", [record], sender="SVA", receiver="BOCINS", business_date=date(2027, 1, 12),
        seq=1, created_time=datetime(2027, 1, 12, 3, 0),
    )  # fmt: skip
    assert result.count == 1 and not result.refused
    assert "张".encode("gb18030") + b"\xfe\x59|" in data  # not the 2005 four-byte code
    back = list(read(io.BytesIO(data), file_name="INSROSTER_SVA_20270112_001.txt"))
    assert back[0].data["name"] == "张\u9fb4"
