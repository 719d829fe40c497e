"""`svcard insurance`: the BOCINS roster and claims (insurer.md) for operators."""

from __future__ import annotations

import getpass
import sys

import click

from gateway import context, wiring
from gateway.cli._common import yyyymmdd
from gateway.db import transaction
from gateway.settings import SettingsError


@click.group("insurance")
def cli() -> None:
    """Volunteer insurance at BOCINS: roster upload, claims and their cover check."""


def _run(fn, *args, **kwargs):
    from adapters.soap import SoapError
    from gateway.partners.insurer.service import InsurerStopped

    try:
        return fn(*args, **kwargs)
    except SettingsError as exc:
        click.echo(f"svcard: {exc}", err=True)
        sys.exit(2)
    except (SoapError, InsurerStopped) as exc:
        click.echo(f"svcard: {exc}", err=True)
        sys.exit(1)


@cli.group("roster")
def roster() -> None:
    """The daily INSROSTER snapshot."""


@roster.command("send")
@click.option(
    "--date", "business_date", default=None, help="Business date YYYYMMDD (default: today, Beijing)."
)
def roster_send(business_date: str | None) -> None:
    """Send the day's roster (again under the same name if unanswered; next SEQ after
    PARTIAL or REJECTED; nothing once ACCEPTED)."""
    from gateway.partners.insurer import service as insurance

    with wiring.ports() as ports:
        report = _run(insurance.send_roster, ports, yyyymmdd(business_date, "--date"))
    for line in report.lines():
        click.echo(line)
    if report.error or report.status in ("partial", "rejected"):
        sys.exit(1)


@cli.command("claims")
@click.option("--volunteer", "volunteer_no", default=None, help="10-digit volunteer number.")
@click.option("--claim", "claim_no", default=None, help="The insurer's claim number.")
def claims(volunteer_no: str | None, claim_no: str | None) -> None:
    """A volunteer's claims, or one claim, with SVA's cover check (figures in yuan)."""
    from gateway.partners.insurer import service as insurance

    if (volunteer_no is None) == (claim_no is None):
        raise click.UsageError("give exactly one of --volunteer NO or --claim NO")
    with wiring.ports() as ports:
        found = _run(insurance.lookup_claims, ports, volunteer_no=volunteer_no, claim_no=claim_no)
    if not found:
        click.echo("no claims")
    for c in found:
        click.echo(insurance.format_claim(c))


@cli.command("flagged")
def flagged() -> None:
    """Every APPROVED or PAID claim that fails the cover check, with the reasons."""
    from gateway.partners.insurer import service as insurance

    with transaction(context.current().sessions) as session:
        rows = insurance.flagged_claims(session)
    click.echo(f"{len(rows)} flagged claim(s)")
    for c in rows:
        click.echo(insurance.format_claim(c))


@cli.command("sweep")
def sweep() -> None:
    """Fetch the claims changed since the last sweep and check them (the daily job)."""
    from gateway.partners.insurer import service as insurance

    with wiring.ports() as ports:
        report = _run(insurance.sweep_claims, ports)
    for line in report.lines():
        click.echo(line)
    if report.error:
        sys.exit(1)


@cli.command("resume")
def resume() -> None:
    """Lift the stop on BOCINS calls after a security fault was fixed."""
    from gateway.partners.insurer import service as insurance

    with transaction(context.current().sessions) as session:
        n = insurance.resume(session, actor=f"cli:{getpass.getuser()}")
    click.echo(f"{n} security alert(s) resolved")
