"""The documented backup and restore (docs/deploy.md, scripts/backup.sh) on a real
PostgreSQL: a database with volunteers (PII encrypted), cards and an exchanged file is
dumped, restored into an empty database, and the restored one is the same, decrypts with
the same data key, and is ready (migrations at head)."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from gateway import context, migrate, readiness
from gateway.db import transaction
from gateway.models import ExchangeFile, Volunteer
from tests.conftest import fresh_pg_database
from tests.integration import rq_kit
from tests.services.foundation_helpers import official

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "backup.sh"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # for the settings' folders only
def test_a_dump_restores_whole_into_an_empty_database(tmp_path: Path, settings) -> None:
    with fresh_pg_database("svcard_backup") as source, fresh_pg_database("svcard_restored") as target:
        s = dataclasses.replace(settings, database_url=source)
        rt = context.build(s)
        migrate.upgrade(rt.engine)
        with transaction(rt.sessions) as session:
            numbers = [official(session).volunteer_no for _ in range(3)]
            session.add(ExchangeFile(partner="BOCSZ", direction="in", file_type="SWIPE", status="processed",
                                     name="SWIPE_BOCSZ_20261101_001.txt.p7m"))  # fmt: skip
        rt.engine.dispose()
        dump = tmp_path / "svcard.dump"
        out = subprocess.run([str(SCRIPT), "dump", source, str(dump)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        restored = subprocess.run([str(SCRIPT), "restore", target, str(dump)], capture_output=True, text=True)
        assert restored.returncode == 0, restored.stderr
        again = subprocess.run([str(SCRIPT), "restore", target, str(dump)], capture_output=True, text=True)
        assert again.returncode == 1 and "not empty" in again.stderr  # never over a live database
        assert rq_kit.diff(rq_kit.dump(rq_kit.db_name(source)), rq_kit.dump(rq_kit.db_name(target))) == []
        rt2 = context.build(dataclasses.replace(s, database_url=target))
        try:
            assert migrate.pending_heads(rt2.engine) == []
            checks = {c.name: c.ok for c in readiness.run_checks(rt2)}
            assert checks["database"] and checks["migrations"]
            with rt2.sessions() as session:  # the PII decrypts with the same data key
                names = {v.volunteer_no: v.name for v in session.query(Volunteer)}
            assert set(numbers) <= set(names) and all(names[n] for n in numbers)
        finally:
            rt2.engine.dispose()
