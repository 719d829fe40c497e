"""`svcard health`: the Health Commission queue (health.md) for operators."""

from __future__ import annotations

import getpass
import sys

import click

from adapters.soap import SoapError
from gateway import context, wiring
from gateway.db import transaction
from gateway.domain.errors import DomainError
from gateway.partners.health import reconcile as rec
from gateway.partners.health import service as health
from gateway.settings import SettingsError
from gateway.timeutil import BEIJING


@click.group("health")
def cli() -> None:
    """Health-card function at SZHC: pending requests, sync, retries."""


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _when(value) -> str:
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@cli.command("pending")
def pending() -> None:
    """What is still to be done at SZHC, and why: open requests, requests waiting for an
    operator, and HEALTH functions still due."""
    with transaction(context.current().sessions) as session:
        alert = health.stopped_by(session)
        if alert is not None:
            click.echo(f"CALLS STOPPED (security fault): {alert.message}")
            click.echo("  fix the credentials or certificate, then `svcard health resume`")
        open_ = health.pending(session)
        failed = health.needing_operator(session)
        click.echo(f"{len(open_)} pending request(s)")
        for r in open_:
            why = r.last_error or ("not yet sent" if r.attempts == 0 else "in flight")
            click.echo(
                f"  {r.request_id:<22} {r.action:<7} {r.reason:<12} card {r.card_id} vol {r.volunteer_no} "
                f"attempts {r.attempts} next {_when(r.next_attempt_at)}  {why}"
            )
        click.echo(f"{len(failed)} request(s) waiting for an operator (`svcard health retry ID`)")
        for r in failed:
            click.echo(
                f"  {r.request_id:<22} {r.action:<7} {r.reason:<12} card {r.card_id} vol {r.volunteer_no} "
                f"{r.status} {r.reason_code or ''}  {r.last_error or ''}"
            )
        due = health.waiting_functions(session)
        click.echo(f"{len(due)} HEALTH function(s) still due")
        for f in due:
            click.echo(
                f"  card {f.card.card_id or '-'} {f.state} {f.reason or ''} since {_when(f.changed_at)}"
            )


@cli.command("sync")
def sync() -> None:
    """Plan and send every request due now (each with its stable requestId)."""
    try:
        with wiring.ports() as ports:
            report = health.sync(ports, actor=_actor())
    except SettingsError as exc:
        click.echo(f"svcard: {exc}", err=True)
        sys.exit(2)
    for line in report.lines():
        click.echo(line)
    if report.stopped:
        sys.exit(1)


@cli.command("retry")
@click.argument("request_id")
@click.option("--note", required=True, help="Why it can go again (recorded).")
def retry(request_id: str, note: str) -> None:
    """Raise a FAILED / CLIENT_FAULT request again (new requestId) or an ERROR one (same id)."""
    try:
        with transaction(context.current().sessions) as session:
            req = health.retry(session, request_id, actor=_actor(), note=note)
            click.echo(f"{req.request_id} {req.action} pending; sent at the next sync")
    except DomainError as exc:
        click.echo(f"svcard: {exc.code}: {exc.message}", err=True)
        sys.exit(1)


@cli.command("resume")
def resume() -> None:
    """Lift the stop after a security fault (credentials or certificate fixed)."""
    with transaction(context.current().sessions) as session:
        n = health.resume(session, actor=_actor())
    click.echo(f"{n} security alert(s) resolved; calls to {health.PARTNER} resume at the next sync")


@cli.command("query")
@click.argument("health_card_no")
def query(health_card_no: str) -> None:
    """Ask SZHC where a health card is and whether it is active."""
    try:
        with wiring.ports() as ports:
            status = health.query_card(ports, health_card_no)
    except (SoapError, SettingsError, health.HealthStopped) as exc:
        click.echo(f"svcard: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"{status.health_card_no} {status.status} on card {status.card_id} since {_when(status.since)}"
    )


@cli.command("reconcile")
@click.option(
    "--all",
    "all_cards",
    is_flag=True,
    help="Every volunteer the health commission holds a card for, not a sample.",
)
def reconcile(all_cards: bool) -> None:
    """Compare our health-function states with SZHC's QueryCard; an alert per mismatch
    (the weekly job checks a sample)."""
    try:
        with wiring.ports() as ports:
            report = rec.reconcile(ports, sample=None if all_cards else rec.WEEKLY_SAMPLE)
    except SettingsError as exc:
        click.echo(f"svcard: {exc}", err=True)
        sys.exit(2)
    for line in report.lines():
        click.echo(line)
    if report.stopped or report.mismatches or report.errors:
        sys.exit(1)
