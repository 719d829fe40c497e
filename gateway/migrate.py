"""Run Alembic migrations programmatically (``svcard db upgrade``, tests, the demo)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Upgrade to every head: each area (api, exchange, transit, soap, donations,
    terminals) has its own branch from 0001_foundation, so areas can add tables
    independently."""
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def pending_heads(engine: Engine) -> list[str]:
    """The heads of the migrations not applied to the database (empty: at head)."""
    script = ScriptDirectory.from_config(alembic_config())
    quiet = logging.getLogger("alembic.runtime.migration")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # its INFO lines describe a migration, and none runs here
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        quiet.setLevel(level)
    applied = {rev.revision for head in current for rev in script.iterate_revisions(head, "base")}
    return sorted(h for h in script.get_heads() if h not in applied)
