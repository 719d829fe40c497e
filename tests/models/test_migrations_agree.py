"""The models and the migrations agree: after ``upgrade`` to every head, Alembic's
autogenerate comparison finds nothing to change, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

import gateway.models  # noqa: F401  (every model module)
from gateway.models import Branch
from gateway.models.base import Base


def test_models_and_migrations_agree(runtime) -> None:
    with runtime.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(mc, Base.metadata)
    assert diff == []


def test_foundation_tables_exist_and_branches_are_seeded(runtime, session) -> None:
    tables = set(inspect(runtime.engine).get_table_names())
    assert {
        "volunteers",
        "orders",
        "cards",
        "card_events",
        "card_functions",
        "card_requests",
        "held_events",
        "calendar_years",
        "calendar_days",
        "branches",
    } <= tables
    codes = session.scalars(select(Branch.code).order_by(Branch.code)).all()
    assert codes[0] == "44001" and len(codes) == 10


def test_migration_branches_match_the_shipped_branches_csv() -> None:
    import csv
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "gateway"
    spec = importlib.util.spec_from_file_location(
        "m0001", root / "migrations" / "versions" / "0001_foundation.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with (root / "data" / "branches.csv").open(encoding="utf-8") as fh:
        shipped = [(r["branch_code"], r["name"], r["district"]) for r in csv.DictReader(fh)]
    assert module.BRANCHES == shipped
