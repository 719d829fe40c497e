"""The CARDORDER package: photos, entry rules, zip safety."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest

from schemas import FileError, Record, RecordError, read_package, write_package
from schemas.samples import sample_file, sample_photo, sample_records

D = date(2026, 11, 30)
NAME = "CARDORDER_SVA_20261130_001.zip"
TEXT = "CARDORDER_SVA_20261130_001.txt"


def _package(n: int = 3) -> bytes:
    name, data = sample_file("CARDORDER", n, seed=5, business_date=D)
    assert name == NAME
    return data


def _rebuild(data: bytes, drop=(), add=None, replace=None) -> bytes:
    """The package with entries dropped, added or replaced (same order otherwise)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            body = (replace or {}).get(info.filename, src.read(info))
            dst.writestr(info, body)
        for name, body in (add or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def _read(data: bytes, name: str = NAME):
    items, exc = [], None
    try:
        items.extend(read_package(data, file_name=name))
    except FileError as e:
        exc = e
    return items, exc


def test_package_round_trip_with_photos():
    data = _package(3)
    reader = read_package(data, file_name=NAME)
    items = list(reader)
    assert [type(i) for i in items] == [Record] * 3
    records = list(sample_records("CARDORDER", 3, seed=5, business_date=D))
    assert [i.data for i in items] == records
    assert reader.photo(records[0]["order_id"]).startswith(b"\xff\xd8")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == sorted([TEXT] + [r["photo"] for r in records])


def test_empty_package_holds_only_its_text_file():
    name, data = sample_file("CARDORDER", 0, seed=1, business_date=D)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == [TEXT]
    assert _read(data) == ([], None)


def test_missing_photo_is_a_record_error():
    data = _package(2)
    first = next(iter(sample_records("CARDORDER", 1, seed=5, business_date=D)))
    items, exc = _read(_rebuild(data, drop={first["photo"]}))
    assert exc is None
    assert [str(i) for i in items if isinstance(i, RecordError)] == ["line:2:photo:missing from package"]
    assert sum(isinstance(i, Record) for i in items) == 1


@pytest.mark.parametrize(
    "body,reason",
    [
        (sample_photo(1, (294, 413)), "smaller than 295 by 413 pixels"),
        (sample_photo(1, (295, 412)), "smaller than 295 by 413 pixels"),
        (b"GIF89a not a photo", "not a JPEG"),
        (sample_photo(1)[:-200], "JPEG truncated"),
    ],
    ids=["narrow", "short", "not-jpeg", "truncated"],
)
def test_unusable_photo_is_a_record_error(body, reason):
    data = _package(2)
    first = next(iter(sample_records("CARDORDER", 1, seed=5, business_date=D)))
    items, exc = _read(_rebuild(data, replace={first["photo"]: body}))
    assert exc is None
    assert [str(i) for i in items if isinstance(i, RecordError)] == [f"line:2:photo:{reason}"]


@pytest.mark.parametrize(
    "extra",
    ["photos/O99999999.jpg", "notes.txt", "photos/../../etc/passwd", "photos/", "照片.jpg"],
)
def test_any_other_entry_is_e04(extra):
    items, exc = _read(_rebuild(_package(1), add={extra: sample_photo(2)}))
    assert exc is not None and exc.code == "E04"


def test_package_rules_e04():
    data = _package(1)
    assert _read(data, "CARDORDER_SVA_20261130_002.zip")[1].code == "E04"  # name != text name
    assert _read(b"PK\x03\x04 not really a zip")[1].code == "E04"
    assert _read(_rebuild(data, drop={TEXT}))[1].code == "E04"


def test_e05_inside_wins_over_package_e04():
    data = _package(1)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        text = zf.read(TEXT)
    wrong = text.replace(b"|SVA|BOCSZ|", b"|SVA|SZT|", 1)
    bad = _rebuild(data, replace={TEXT: wrong}, add={"extra.bin": b"x"})
    assert _read(bad)[1].code == "E05"


def test_zip_bomb_entry_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(TEXT, b"H|CARDORDER|1.0|SVA|BOCSZ|20261130|001|20261130010002\r\nT|0|0\r\n")
        zf.writestr("photos/O1.jpg", b"\0" * (6 << 20))  # 6 MiB of zeros, a few KiB zipped
    assert _read(out.getvalue())[1].code == "E04"


def test_writer_refuses_a_record_without_usable_photo():
    records = list(sample_records("CARDORDER", 2, seed=5, business_date=D))
    photos = {records[1]["order_id"]: sample_photo(3), records[0]["order_id"]: b"junk"}
    out = io.BytesIO()
    result = write_package(out, records, photos, sender="SVA", receiver="BOCSZ", business_date=D,
                           seq=1, created_time=datetime(2026, 11, 30, 1))  # fmt: skip
    assert [(r.index, r.field, r.reason) for r in result.refused] == [(0, "photo", "not a JPEG")]
    items, exc = _read(out.getvalue())
    assert exc is None and [i.data for i in items] == [records[1]]


def test_record_with_another_error_keeps_its_photo_named_and_is_partial():
    """A bad mobile is a record error; its photo is still one a record names (not E04),
    and a bad record without its photo gets both errors."""
    records = list(sample_records("CARDORDER", 3, seed=5, business_date=D))
    data = _package(3)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        text = zf.read(TEXT).decode("gb18030")
    text = text.replace(records[0]["mobile"], "12345", 1).replace(records[1]["mobile"], "23456", 1)
    bad = _rebuild(data, replace={TEXT: text.encode("gb18030")}, drop={records[1]["photo"]})
    items, exc = _read(bad)
    assert exc is None
    assert [str(i) for i in items if isinstance(i, RecordError)] == [
        "line:2:mobile:not a mainland mobile number",
        "line:3:mobile:not a mainland mobile number",
        "line:3:photo:missing from package",
    ]
    assert [i.data for i in items if isinstance(i, Record)] == [records[2]]
