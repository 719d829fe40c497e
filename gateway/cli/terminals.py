"""`svcard terminals load FILE.csv` and `svcard terminals list`: the registry of the
platform's POS terminals (gateway.services.terminal_import for the file's columns).

Exit status of ``load``: 0 when every row was loaded, 1 when some rows were skipped (each
listed as ``line:<n>:<column>:<rule>``) or the file was refused.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from gateway import context
from gateway.cli._common import fail
from gateway.db import transaction
from gateway.domain import places
from gateway.domain.errors import DomainError
from gateway.models import Terminal
from gateway.services.terminal_import import load_csv


@click.group("terminals")
def cli() -> None:
    """The platform's POS terminals."""


@cli.command("load")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(csv_file: Path) -> None:
    """Register or update terminals from CSV_FILE (UTF-8, header row: terminal_id,
    organisation, district, site_name, latitude, longitude, active)."""
    try:
        with transaction(context.current().sessions) as session:
            report = load_csv(session, csv_file, actor="cli:load")
    except DomainError as exc:
        fail(exc)
    click.echo(
        f"{report.file}: {report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.skipped_lines)} skipped"
    )
    for err in report.errors:
        click.echo(f"  skipped {err}")
    if report.errors:
        raise SystemExit(1)


@cli.command("list")
@click.option("--district", default=None, help="A district's code or name (440304, 福田区, OUTSIDE).")
def list_(district: str | None) -> None:
    """Terminals by id: id, district, organisation, site, active."""
    stmt = select(Terminal).order_by(Terminal.terminal_id)
    if district is not None:
        found = places.district(district)
        if found is None:
            raise click.BadParameter(
                "not a Shenzhen district code or name, nor OUTSIDE", param_hint="--district"
            )
        stmt = stmt.where(Terminal.district == found.code)
    with transaction(context.current().sessions) as session:
        for t in session.scalars(stmt):
            click.echo(
                f"{t.terminal_id:<20} {t.district:<8} {t.district_name}  {t.organisation}  "
                f"{t.site_name or '-'}  {'active' if t.active else 'INACTIVE'}"
            )
