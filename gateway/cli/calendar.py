"""`svcard calendar status|show|load|seed`: the working-day calendar, a table per year.

File format of ``load`` (UTF-8 CSV, the year's complete list of exceptional days)::

    date,kind,name
    2027-02-08,holiday,Spring Festival
    2027-02-20,workday,make-up working day

(the dates show the format only: docs/runbook.md says where the real ones come from)

Exit status: 0 on success, 1 when the file is refused (every problem listed as
``file:line:column:reason``; nothing is loaded).
"""

from __future__ import annotations

from pathlib import Path

import click

from gateway import context
from gateway.cli._common import beijing, fail
from gateway.db import transaction
from gateway.domain import calendar as cal_rules
from gateway.domain.errors import DomainError
from gateway.services import calendar as cal_service
from gateway.timeutil import beijing_today


@click.group("calendar")
def cli() -> None:
    """Working-day calendar (State Council schedule, per year)."""


@cli.command("status")
def status() -> None:
    """Which years are loaded (and from where) and which are provisional, around today;
    from 1 December, a warning while next year is not loaded (exit 1)."""
    today = beijing_today()
    with transaction(context.current().sessions) as session:
        for year in range(today.year - 1, today.year + 2):
            cy, _ = cal_service.year_rows(session, year)
            if cy is None:
                click.echo(f"{year}: PROVISIONAL (not loaded: weekends only)")
            else:
                click.echo(
                    f"{year}: loaded from {cy.source} by {cy.loaded_by} at {beijing(cy.loaded_at)} (Beijing)"
                )
        warning = cal_service.next_year_warning(session, today)
        alert = cal_service.next_year_alert(session, today.year + 1) if warning else None
        opened = alert.created_at if alert is not None else None
    if warning is not None:
        click.echo(f"WARNING: {warning}")
        if opened is not None:
            click.echo(f"alert {cal_service.NEXT_YEAR_ALERT} open since {beijing(opened)} (Beijing)")
        else:
            click.echo(f"alert {cal_service.NEXT_YEAR_ALERT} not raised yet: the daily sweep raises it")
        raise SystemExit(1)


@cli.command("show")
@click.argument("year", type=click.IntRange(1990, 2100))
@click.option("--csv", "as_csv", is_flag=True, help="Print the year in the load file format.")
def show(year: int, as_csv: bool) -> None:
    """Show YEAR: loaded or not, its holidays and make-up working days."""
    with transaction(context.current().sessions) as session:
        cy, rows = cal_service.year_rows(session, year)
        summary = cal_service.summary(session, year)
    if as_csv:
        click.echo(cal_rules.format_calendar_csv(rows), nl=False)
        return
    if cy is None:
        click.echo(
            f"{year}: NOT LOADED - only Saturdays and Sundays are non-working; due dates are provisional"
        )
    else:
        click.echo(f"{year}: loaded from {cy.source} by {cy.loaded_by} at {beijing(cy.loaded_at)} (Beijing)")
    click.echo(f"working days: {summary.working_days}")
    for r in rows:
        kind = "workday" if r.working else "holiday"
        click.echo(f"  {r.day.isoformat()} {r.day:%a}  {kind:<8} {r.name}")


@cli.command("load")
@click.argument("year", type=click.IntRange(1990, 2100))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", default="operator", show_default=True)
def load(year: int, file: Path, actor: str) -> None:
    """Load (or correct) YEAR from FILE and recompute the due dates that depend on it."""
    try:
        rows = cal_rules.parse_calendar_csv(file.read_text(encoding="utf-8-sig"), year, file.name)
        with transaction(context.current().sessions) as session:
            changed = cal_service.load_year(session, year, rows, source=f"file {file.name}", actor=actor)
    except DomainError as exc:
        fail(exc)
    except UnicodeDecodeError:
        click.echo(f"svcard: CALENDAR_FILE: {file.name}: not UTF-8", err=True)
        raise SystemExit(1) from None
    holidays = sum(not r.working for r in rows)
    click.echo(
        f"{year} loaded: {holidays} holidays, {len(rows) - holidays} make-up working days; "
        f"{changed} orders' due dates recomputed"
    )


@cli.command("seed")
@click.option("--from-year", default=min(cal_service.DEFAULT_SEED_YEARS), show_default=True)
@click.option("--to-year", default=max(cal_service.DEFAULT_SEED_YEARS), show_default=True)
def seed(from_year: int, to_year: int) -> None:
    """Seed the years the `holidays` package has a published schedule for (never
    overwrites a loaded year); from 1 December, raise the alert if next year is still
    not loaded."""
    with transaction(context.current().sessions) as session:
        seeded = cal_service.seed_from_holidays(session, range(from_year, to_year + 1))
        # Seeding is how a fresh system gets its calendar: raise the next-year alert now
        # rather than at the next daily sweep (07:30), if it is due.
        warning = cal_service.check_next_year(session, beijing_today())
    click.echo(
        "seeded: " + (", ".join(map(str, seeded)) or "nothing (already loaded or unknown to holidays)")
    )
    if warning is not None:
        click.echo(f"WARNING: {warning}")
