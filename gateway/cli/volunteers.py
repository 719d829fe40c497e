"""`svcard volunteers import FILE.csv`: the bulk load from the existing platform.

Exit status: 0 when every row was imported, 1 when some rows were skipped (each listed as
``line:<n>:<column>:<rule>``) or the file was refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import click

from gateway import context
from gateway.cli._common import business_date_option, fail, parse_business_date
from gateway.db import transaction
from gateway.domain.errors import DomainError
from gateway.services.volunteer_import import ImportReport, import_csv
from gateway.timeutil import BEIJING


@click.group("volunteers")
def cli() -> None:
    """Volunteers."""


def print_report(report: ImportReport, echo=click.echo) -> None:
    echo(
        f"{report.file}: {report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.skipped_lines)} skipped; {report.orders} NEW card orders"
    )
    for err in report.errors:
        echo(f"  skipped {err}")
    for line, no, problems in report.not_ordered:
        echo(
            f"  no card order yet for line {line} ({no}): "
            + "; ".join(f"{p.field}:{p.rule}" for p in problems)
        )


@cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@business_date_option
def import_(csv_file: Path, business_date: str | None) -> None:
    """Import volunteers from CSV_FILE (UTF-8, header row; see README "Volunteers import")."""
    day = parse_business_date(business_date)
    now = datetime.now(UTC) if business_date is None else datetime.combine(day, time(12), BEIJING)
    rt = context.current()
    try:
        with transaction(rt.sessions) as session:
            report = import_csv(session, csv_file, actor="cli:import", now=now)
    except DomainError as exc:
        fail(exc)
    print_report(report)
    if report.errors:
        raise SystemExit(1)
