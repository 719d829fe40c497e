"""`svcard donations reconcile|volunteer|send-exp|days`: the 十分关爱 donations.

Exit status: 0 on success; 1 when the request is refused (a bad period, DONATIONEXP for a
month still missing SWIPE days without ``--early``, an early send without a reason).
"""

from __future__ import annotations

import csv
import getpass
import sys
from pathlib import Path

import click

from gateway import context, wiring
from gateway.db import transaction
from gateway.domain import donations as rule
from gateway.domain.errors import DomainError
from gateway.partners.fund import exchange as fund_exchange
from gateway.services import exchange
from gateway.services import reconciliation as rec
from gateway.timeutil import beijing_today


def _period(value: str) -> str:
    try:
        rec.month_bounds(value)
    except rec.BadPeriod as exc:
        raise click.BadParameter(str(exc), param_hint="YYYYMM") from None
    return value


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


@click.group("donations")
def cli() -> None:
    """Per-swipe donations: reconciliation with the fund, volunteers' donations, DONATIONEXP."""


@cli.command("reconcile")
@click.argument("period")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write one row per beneficiary to FILE ('-' for stdout).")  # fmt: skip
@click.option("--flagged", default=20, show_default=True, help="How many flagged SWIPE records to list.")
def reconcile(period: str, csv_path: Path | None, flagged: int) -> None:
    """The reconciliation of PERIOD (YYYYMM): classes, totals, beneficiaries outside MATCHED."""
    period = _period(period)
    with transaction(context.current().sessions) as session:
        report = rec.report(session, period, flagged_limit=flagged)
    if csv_path is not None:
        _write_csv(report, csv_path)
        if str(csv_path) == "-":
            return
    click.echo(f"Reconciliation {period}  (computed = SVA from SWIPE; booked = the fund's DONATION lines)")
    if report.missing_days:
        days = ", ".join(f"{d:%m-%d}" for d in report.missing_days[:10])
        more = "" if len(report.missing_days) <= 10 else f" and {len(report.missing_days) - 10} more"
        click.echo(f"  SWIPE not yet applied for {len(report.missing_days)} day(s): {days}{more}")
    click.echo(f"{'class':<11}{'count':>9}{'computed fen':>15}{'booked fen':>15}")
    for c in report.classes.values():
        click.echo(f"{c.klass:<11}{c.count:>9}{c.computed_fen:>15}{c.booked_fen:>15}")
    total = sum(c.count for c in report.classes.values())
    click.echo(f"{'total':<11}{total:>9}{report.computed_fen:>15}{report.booked_fen:>15}")
    click.echo(
        f"computed {_yuan(report.computed_fen)} yuan, booked {_yuan(report.booked_fen)} yuan, "
        f"bank {_yuan(report.bank_fen)} yuan; BANK_DIFFERS: {sum(ln.bank_differs for ln in report.lines)}"
    )
    outside = report.outside_matched
    if outside:
        click.echo(f"\nOutside MATCHED ({len(outside)}):")
        click.echo(
            f"{'volunteer_no':<13}{'class':<11}{'computed':>10}{'bank':>10}{'booked':>10}  bank_differs"
        )
        for ln in outside:
            click.echo(
                f"{ln.volunteer_no:<13}{ln.klass:<11}{ln.computed_fen:>10}{ln.bank_fen:>10}"
                f"{ln.booked_fen:>10}  {'Y' if ln.bank_differs else 'N'}"
            )
    if report.flagged_total:
        click.echo(
            f"\nFlagged SWIPE records behind them: {report.flagged_total} (first {len(report.flagged)})"
        )
        for f in report.flagged:
            click.echo(
                f"  {f.day:%Y-%m-%d} {f.txn_id:<24} {f.txn_type:<9} for {f.beneficiary} "
                f"(record {f.volunteer_no}) SVA {f.fen} bank {f.bank_fen}: {', '.join(f.flags)}"
            )


def _write_csv(report: rec.Report, path: Path) -> None:
    out = sys.stdout if str(path) == "-" else open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
    try:
        csv.writer(out, lineterminator="\n").writerows(rec.csv_rows(report))
    finally:
        if out is not sys.stdout:
            out.close()


@cli.command("volunteer")
@click.argument("volunteer_no")
def volunteer(volunteer_no: str) -> None:
    """VOLUNTEER_NO's donations month by month (the campaign is 0000000000)."""
    if len(volunteer_no) != 10 or not volunteer_no.isdigit():
        raise click.BadParameter("a volunteer number is 10 digits", param_hint="VOLUNTEER_NO")
    with transaction(context.current().sessions) as session:
        months = rec.volunteer_months(session, volunteer_no)
    who = "the campaign" if volunteer_no == rule.CAMPAIGN else volunteer_no
    if not months:
        click.echo(f"{who}: no donations")
        return
    click.echo(f"Donations of {who}")
    click.echo(f"{'period':<8}{'purchases':>10}{'reversals':>10}{'computed':>10}{'bank':>10}{'booked':>10}")
    for m in months:
        click.echo(
            f"{m.period:<8}{m.purchases:>10}{m.reversals:>10}{m.computed_fen:>10}{m.bank_fen:>10}{m.booked_fen:>10}"
        )
    click.echo(
        f"{'total':<28}{sum(m.computed_fen for m in months):>10}{'':>10}{sum(m.booked_fen for m in months):>10}"
    )


@cli.command("days")
@click.argument("period")
def days(period: str) -> None:
    """Which days of PERIOD still miss an applied SWIPE file."""
    period = _period(period)
    with transaction(context.current().sessions) as session:
        missing = rec.missing_days(session, period)
    if not missing:
        click.echo(f"{period}: every day has an applied SWIPE file")
        return
    click.echo(f"{period}: {len(missing)} day(s) without an applied SWIPE file:")
    for d in missing:
        click.echo(f"  {d.isoformat()}")


@cli.command("send-exp")
@click.argument("period")
@click.option("--early", is_flag=True, help="Send before every day of the month has an applied SWIPE file.")
@click.option("--reason", default=None, help="Why (required with --early; recorded).")
@click.option("--actor", default=None, help="Who decides (default: the login name).")
def send_exp(period: str, early: bool, reason: str | None, actor: str | None) -> None:
    """Send PERIOD's DONATIONEXP to the fund now."""

    period = _period(period)
    with transaction(context.current().sessions) as session:
        missing = rec.missing_days(session, period)
        if missing and not early:
            click.echo(
                f"svcard: NOT_READY: {period} misses SWIPE for {len(missing)} day(s); "
                "use --early --reason to send anyway (recorded)",
                err=True,
            )
            raise SystemExit(1)
        if early or period not in fund_exchange.ready_periods(session, beijing_today()):
            if not reason:
                click.echo("svcard: REASON_REQUIRED: an early send needs --reason", err=True)
                raise SystemExit(1)
            try:
                fund_exchange.decide_early(session, period, reason, actor or getpass.getuser())
            except DomainError as exc:
                click.echo(f"svcard: {exc.code}: {exc.message}", err=True)
                raise SystemExit(1) from None
    report = exchange.send(wiring.ports(), fund_exchange.PARTNER, "DONATIONEXP", beijing_today())
    if report is None:
        click.echo(f"{period}: nothing to send (already sent)")
        return
    state = "uploaded" if report.uploaded else "prepared (upload pending)"
    click.echo(f"{report.name}: {report.records} line(s), {state}")
