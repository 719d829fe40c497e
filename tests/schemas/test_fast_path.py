"""The fast path and the full schema agree: same records, same messages."""

from __future__ import annotations

import functools
import io
import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import TYPES, Context, FileError, read
from schemas.fields import DATE, TIME
from schemas.samples import sample_file
from schemas.validate import Validator

D = date(2027, 1, 11)
# Replacement pieces that break (or happen to keep) field rules in many ways.
NOISE = ["", "X", "0", "-1", "1O", "|", "\x07", "张", "20270111", "20270112000000", "REVERSAL",
         "PRODUCED", "44003", "621785******4417", "ZZZZZZZZZZZZZZZZ", "E07", "0000000000", " "]  # fmt: skip


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """Replace one field in about a third of the D lines; keep the trailer sane."""
    lines = data.decode("gb18030").split("\r\n")
    for i in range(1, len(lines) - 2):
        if rng.random() < 0.35:
            parts = lines[i].split("|")
            parts[rng.randrange(1, len(parts))] = rng.choice(NOISE)
            lines[i] = "|".join(parts)
    return "\r\n".join(lines).encode("gb18030")


def _run(data: bytes, name: str, fast: bool):
    out = []
    try:
        for item in read(io.BytesIO(data), file_name=name, fast=fast):
            out.append(str(item) if not hasattr(item, "data") else (item.line, item.data))
    except FileError as exc:
        out.append((exc.code, exc.reason, exc.line))
    return out


@pytest.mark.parametrize("file_type", sorted(set(TYPES) - {"CARDORDER"}) + ["CARDORDER"])
def test_fast_path_and_schema_only_give_the_same_output(file_type):
    rng = random.Random(file_type)
    name, data = sample_file(file_type, 120, seed=11, business_date=D)
    if file_type == "CARDORDER":  # the text file inside the package
        import zipfile

        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            name = name.replace(".zip", ".txt")
            data = zf.read(name)
    record_errors = 0
    for _ in range(6):
        bad = _mutate(data, rng)
        fast, slow = _run(bad, name, True), _run(bad, name, False)
        assert fast == slow
        record_errors += sum(isinstance(x, str) for x in fast)
    assert record_errors > 10  # the mutations did produce record errors to compare


# Field values near the rules' edges, for every type's line: the fast path must accept
# exactly what the schema accepts, with the same typed values.
_PIECES = st.sampled_from(
    ["", "0", "-10", "10", "00", "X", "K7Q2M9X4B1C8D3E5", "2019004417", "20270111", "20270110",
     "20270112", "20270111235959", "20270112000000", "20270230", "202701", "202713",
     "621785******4417", "PURCHASE", "REVERSAL", "REFUND", "POS", "RIC", "PASSPORT",
     "440303198506120872", "M", "F", "19850612", "13760012345", "44003", "44099", "NEW",
     "RENEW", "DEBIT", "CREDIT", "OK", "FAILED", "T02", "310000417726", "ENABLE",
     "ACCEPTED", "PARTIAL", "E07", "9a" * 32, "张三", "photos/O1.jpg", "O1", "\x7f"]
)  # fmt: skip


@functools.cache
def _valid_lines(file_type: str) -> list[tuple[str, ...]]:
    name, data = sample_file(file_type, 30, seed=2, business_date=D)
    if file_type == "CARDORDER":
        import zipfile

        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            data = zf.read(name.replace(".zip", ".txt"))
    lines = data.decode("gb18030").split("\r\n")[1:-2]
    return [tuple(line.split("|")[1:]) for line in lines]


def _edges(file_type: str, i: int) -> list[str]:
    """Values at the edges of field ``i``'s rule: the business-date bounds, each value
    of an enumeration, blank, and the field's values in other valid lines."""
    spec = TYPES[file_type].fields[i]
    out = ["", "X"] + [line[i] for line in _valid_lines(file_type)[:5]]
    if spec.kind is DATE:
        out += ["20270110", "20270111", "20270112", "20270230", "00000101"]
    elif spec.kind is TIME:
        out += ["20270110235959", "20270111000000", "20270111235959", "20270112000000",
                "20270111240000"]  # fmt: skip
    elif "|" in spec.kind.pattern and "[" not in spec.kind.pattern:
        out += spec.kind.pattern.split("|")
    return out


@pytest.mark.parametrize("file_type", sorted(TYPES))
@settings(max_examples=100, derandomize=True, deadline=None)
@given(data=st.data())
def test_fast_path_accepts_exactly_what_the_schema_accepts(file_type, data):
    rt = TYPES[file_type]
    raw = list(data.draw(st.sampled_from(_valid_lines(file_type))))
    for _ in range(data.draw(st.integers(0, 2))):  # 0 changes: the valid line itself
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.sampled_from(_edges(file_type, i)) | _PIECES)
    v = Validator(rt, Context.of(D))
    fast = v.fast("D|" + "|".join(raw))
    typed, problems = v.check_fields(raw)
    assert fast == typed
    assert (typed is None) == bool(problems)
