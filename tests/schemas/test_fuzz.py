"""The reader never crashes: any bytes give records, record errors or a coded FileError."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import FileError, Record, RecordError, read, read_package
from tests.schemas.helpers import SWIPE_HEADER, SWIPE_LINES, SWIPE_NAME, build

VALID = build(SWIPE_HEADER, SWIPE_LINES)
FUZZ = settings(max_examples=150, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


def _consume(reader) -> None:
    try:
        for item in reader:
            assert isinstance(item, Record | RecordError)
            if isinstance(item, RecordError):
                assert not set(item.reason) & set(";:|")
    except FileError as exc:
        assert exc.code in ("E03", "E04", "E05")


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes(data):
    _consume(read(io.BytesIO(data), file_name=SWIPE_NAME))


@FUZZ
@given(st.data())
def test_valid_file_with_bytes_changed(draw):
    data = bytearray(VALID)
    for _ in range(draw.draw(st.integers(1, 6))):
        at = draw.draw(st.integers(0, len(data) - 1))
        data[at] = draw.draw(st.integers(0, 255))
    _consume(read(io.BytesIO(bytes(data)), file_name=SWIPE_NAME))


@FUZZ
@given(st.lists(st.text(alphabet=st.sampled_from("D|T0123456789AZ-\r张\x00"), max_size=80), max_size=8))
def test_arbitrary_lines_after_a_valid_header(lines):
    _consume(read(io.BytesIO(build(SWIPE_HEADER, lines)), file_name=SWIPE_NAME))


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_package_bytes(data):
    _consume(read_package(b"PK\x03\x04" + data, file_name="CARDORDER_SVA_20261130_001.zip"))
