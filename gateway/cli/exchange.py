"""`svcard exchange`: run a partner's cycle, list exchanged files, replay a rejected one."""

from __future__ import annotations

import getpass
import sys

import click
from sqlalchemy import select

from adapters.sftp_errors import SftpError
from gateway import context, wiring
from gateway.cli._common import yyyymmdd
from gateway.db import transaction
from gateway.models.exchange import IN_STATUSES, OUT_STATUSES, Alert, ExchangeFile
from gateway.partners import registry
from gateway.services import alerts as alerts_svc
from gateway.services import exchange
from gateway.settings import SettingsError
from jobs.exchange import run_cycle
from keys.keystore import KeystoreError

FILE_STATUSES = tuple(dict.fromkeys(OUT_STATUSES + IN_STATUSES))


@click.group("exchange")
def cli() -> None:
    """File exchanges with the file partners (SFTP)."""


@cli.command("run")
@click.argument("partner", type=click.Choice(registry.file_partner_ids()))
@click.option(
    "--date", "business_date", default=None, help="Business date YYYYMMDD (default: today, Beijing)."
)
def run(partner: str, business_date: str | None) -> None:
    """One full cycle for PARTNER: send what is due, fetch, process, acknowledge."""

    day = yyyymmdd(business_date, "--date")
    try:
        report = run_cycle(partner, day.isoformat() if day else None)
    except Exception as exc:
        # The send step tries every due file, then raises one RuntimeError naming those not
        # sent, caused by the first failure: show that failure, not a traceback.
        cause = exc.__cause__ if isinstance(exc, RuntimeError) and exc.__cause__ else exc
        if isinstance(cause, SettingsError):
            click.echo(f"svcard: {cause}", err=True)
            sys.exit(2)
        if isinstance(cause, (SftpError, KeystoreError)):
            if cause is not exc:
                click.echo(f"svcard: {exc}", err=True)
            code = f"{cause.code}: " if isinstance(cause, SftpError) else ""
            click.echo(f"svcard: {code}{cause}", err=True)
            sys.exit(1)
        raise
    for line in report.lines():
        click.echo(line)


@cli.command("files")
@click.option(
    "--partner", type=click.Choice(registry.ids()), default=None, help="Any partner (the insurer: rosters)."
)
@click.option("--status", type=click.Choice(FILE_STATUSES), default=None, help="Only files in this status.")
@click.option("--limit", default=50, show_default=True)
def files(partner: str | None, status: str | None, limit: int) -> None:
    """List exchanged files, newest first."""
    with transaction(context.current().sessions) as session:
        q = select(ExchangeFile).order_by(ExchangeFile.id.desc()).limit(limit)
        if partner:
            q = q.where(ExchangeFile.partner == partner)
        if status:
            q = q.where(ExchangeFile.status == status)
        rows = session.scalars(q).all()
        if not rows:
            click.echo("no files")
        for f in rows:
            ack = f"{f.ack_status or ''} {f.ack_code or ''}".strip()
            click.echo(
                f"{f.id:>6} {f.partner:<6} {f.direction:<3} {f.name:<44} {f.status:<10} "
                f"{f.record_count if f.record_count is not None else '-':>7} ack:{ack or '-'}"
            )
            for e in f.record_errors[:20]:
                click.echo(f"{'':>8}{e.render()}")
            if len(f.record_errors) > 20:
                click.echo(f"{'':>8}... {len(f.record_errors) - 20} more")
            if f.detail:
                click.echo(f"{'':>8}{f.detail}")


@cli.command("replay")
@click.argument("file_id", type=int)
@click.option("--comment", required=True, help="Why the file can now be applied (recorded).")
def replay(file_id: int, comment: str) -> None:
    """Reprocess a rejected inbound file after the cause was fixed."""
    try:
        status = exchange.replay(wiring.ports(), file_id, comment, actor=f"cli:{getpass.getuser()}")
    except exchange.ReplayRefused as exc:
        click.echo(f"svcard: {exc}", err=True)
        sys.exit(1)
    click.echo(f"file {file_id}: {status}")


@cli.command("alerts")
@click.option("--all", "show_all", is_flag=True, help="Include resolved alerts.")
def alerts(show_all: bool) -> None:
    """Alerts for operators (host keys, missing files, held files, security faults)."""
    with transaction(context.current().sessions) as session:
        q = select(Alert).order_by(Alert.id.desc())
        if not show_all:
            q = q.where(Alert.resolved_at.is_(None))
        rows = session.scalars(q).all()
        if not rows:
            click.echo("no open alerts")
        for a in rows:
            click.echo(
                f"{a.id:>5} {a.created_at:%Y-%m-%d %H:%M} {a.kind:<20} {a.partner or '-':<6} {a.message}"
            )


@cli.command("resolve-alert")
@click.argument("alert_id", type=int)
@click.option("--note", required=True, help="What was done about it (recorded on the alert).")
def resolve_alert(alert_id: int, note: str) -> None:
    """Close an alert an operator has dealt with; it leaves the open list (``alerts --all``
    still shows it, with the note)."""

    if not note.strip():
        raise click.BadParameter("a note is required", param_hint="--note")
    with transaction(context.current().sessions) as session:
        try:
            alerts_svc.acknowledge(session, alert_id, actor=f"cli:{getpass.getuser()}", note=note)
        except alerts_svc.AlertRefused as exc:
            session.rollback()
            click.echo(f"svcard: {exc.message}", err=True)
            sys.exit(1)
    click.echo(f"alert {alert_id} resolved")
