"""The fast path and the full schema agree: same records, same messages."""

from __future__ import annotations

import io
import random
from datetime import date

import pytest

from schemas import TYPES, FileError, read
from schemas.samples import sample_file

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
