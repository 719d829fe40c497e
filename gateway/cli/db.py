"""`svcard db upgrade`: create or migrate the database schema."""

from __future__ import annotations

import click

from gateway import context, migrate


@click.group("db")
def cli() -> None:
    """Database schema."""


@cli.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def upgrade(revision: str) -> None:
    """Apply Alembic migrations up to REVISION."""
    rt = context.current()
    if rt.settings.database_url.startswith("sqlite"):
        rt.settings.var_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(rt.engine, revision)
    click.echo(f"database at {revision}")
