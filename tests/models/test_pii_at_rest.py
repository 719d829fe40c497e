"""PII never appears in plain text: not in the SQLite file, not in PostgreSQL's raw column
bytes, not in the logs (SQL parameters included), not in the import report."""

from __future__ import annotations

import csv
import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from gateway.db import transaction
from gateway.services import sample
from gateway.services import volunteers as vs
from gateway.services.volunteer_import import import_csv

PII_COLUMNS = ("name", "id_number", "mobile", "address", "emergency_name", "emergency_mobile", "photo")


def _values(csv_path: Path) -> tuple[list[bytes], list[bytes]]:
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    texts = [r[c].encode() for r in rows for c in PII_COLUMNS[:-1]]
    # a run of bytes from the middle of each photo (JPEG headers are alike; the middle is not)
    photos = [(csv_path.parent / r["photo"]).read_bytes() for r in rows]
    return texts, [p[len(p) // 2 : len(p) // 2 + 32] for p in photos]


def test_pii_is_never_stored_or_logged_in_plain_text(runtime, tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # SQL and its parameters
    try:
        csv_path = sample.generate(tmp_path / "sample", 12, seed=3, applicants=0.25)
        with transaction(runtime.sessions) as s:
            report = import_csv(s, csv_path, now=datetime(2026, 11, 28, 4, tzinfo=UTC))
            official = s.execute(text("SELECT max(volunteer_no) FROM volunteers")).scalar()
            vs.deregister(s, official, at=datetime(2026, 11, 28, 5, tzinfo=UTC), actor="t")
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    texts, photo_runs = _values(csv_path)
    assert report.created == 12

    if runtime.engine.dialect.name == "sqlite":
        db_file = Path(runtime.engine.url.database)
        runtime.engine.dispose()  # checkpoint the WAL into the file
        stored = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
    else:
        with runtime.engine.connect() as conn:
            rows = conn.execute(text(f"SELECT {', '.join(PII_COLUMNS)} FROM volunteers")).all()
        stored = b"".join(bytes(value) for row in rows for value in row if value is not None)
        assert all(bytes(value).startswith(b"P1") for row in rows for value in row if value is not None)
    assert len(stored) > 1000
    leaked = [t for t in texts + photo_runs if t in stored]
    assert leaked == []

    logged = caplog.text.encode()
    assert b"INSERT INTO volunteers" in logged  # the SQL log was captured
    assert [t for t in texts if t in logged] == []
