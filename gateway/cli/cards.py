"""`svcard cards show|pipeline|overdue|due-soon|at-risk`: the card lifecycle for operators.

No PII is printed: volunteers by number, cards by the bank's token and masked PAN.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import click
from sqlalchemy.orm import Session

from gateway import context
from gateway.cli._common import beijing, business_date_option, fail, parse_business_date
from gateway.db import transaction
from gateway.domain.errors import DomainError
from gateway.services import card_queries as q
from gateway.services import volunteers as vs

Row = TypeVar("Row")


@click.group("cards")
def cli() -> None:
    """Cards: history, pipeline, service levels, pickup deadlines."""


@cli.command("show")
@click.argument("volunteer_no")
def show(volunteer_no: str) -> None:
    """The card history of VOLUNTEER_NO (official or provisional number)."""
    with transaction(context.current().sessions) as session:
        try:
            v = vs.get_volunteer(session, volunteer_no)
        except DomainError as exc:
            fail(exc)
        click.echo(
            f"volunteer {v.number}  {v.status}  official since {v.official_since or '-'}  "
            f"deregistered {beijing(v.deregistered_at)}"
        )
        click.echo(
            f"  carrier {v.carrier or '-'}  branch {v.branch_code or '-'}  "
            f"transit {'Y' if v.opt_transit else 'N'}  health {'Y' if v.opt_health else 'N'}"
        )
        cards = q.history(session, v)
        if not cards:
            click.echo("  no card")
        for h in cards:
            c, o = h.card, h.order
            marker = (
                "  (loss requested)"
                if c.loss_requested_at and c.state in ("PRODUCED", "NOTIFIED", "IN_USE")
                else ""
            )
            click.echo(
                f"card #{c.id} {c.card_id or '(not produced)'} {c.masked_pan or ''} {c.carrier} "
                f"branch {c.branch_code}: {c.state}{marker}"
            )
            if o is not None:
                due = f"PRODUCED due {o.produced_due or '-'}, NOTIFIED due {o.notified_due or '-'}"
                if o.due_provisional:
                    due += " (provisional)"
                click.echo(f"  order {o.order_id} {o.order_type} {o.status}  day0 {o.day0 or '-'}  {due}")
                if o.reject_code:
                    click.echo(f"  rejected {o.reject_code} {o.reject_text or ''}")
            if c.replaces_pk or c.replaced_by_pk:
                click.echo(f"  replaces #{c.replaces_pk or '-'}  replaced by #{c.replaced_by_pk or '-'}")
            if c.pickup_deadline:
                click.echo(
                    f"  notified {c.notified_on}{' (inferred)' if c.notified_inferred else ''}  "
                    f"pickup deadline {c.pickup_deadline}"
                )
            click.echo(
                "  functions: "
                + "  ".join(f"{k} {s}{'/' + r if r else ''}" for k, (s, r) in h.functions.items())
            )
            for r in h.requests:
                click.echo(
                    f"  request {r.request_id} {r.request_type} {r.status} at {beijing(r.request_time)}"
                )
            for e in h.events:
                where = f"{e.source_file}:{e.source_line}" if e.source_file else (e.request_id or "")
                flag = " inferred" if e.inferred else (" completes inferred" if e.completes_pk else "")
                click.echo(
                    f"    {beijing(e.event_time)}  {e.event:<17} {e.from_state or '-':>14} -> "
                    f"{e.to_state or '-':<14} {e.actor} {where}{flag}"
                )


@cli.command("pipeline")
def pipeline() -> None:
    """How many cards are in each state, and what is waiting for a partner."""
    with transaction(context.current().sessions) as session:
        p = q.pipeline(session)
    total = sum(p.cards.values())
    click.echo(f"cards: {total}")
    for state, n in p.cards.items():
        click.echo(f"  {state:<15} {n:>7}")
    click.echo("orders: " + ("  ".join(f"{k} {v}" for k, v in sorted(p.orders.items())) or "none"))
    click.echo(
        "functions due: " + ("  ".join(f"{k} {v}" for k, v in sorted(p.functions_due.items())) or "none")
    )
    click.echo(
        "open requests: " + ("  ".join(f"{k} {v}" for k, v in sorted(p.requests_open.items())) or "none")
    )
    click.echo(f"loss requested: {p.loss_requested}   held events: {p.held_events}")


def _rows_on(
    business_date: str | None, query: Callable[[Session, date], list[Row]]
) -> tuple[date, list[Row]]:
    """The business date asked for (default today in Beijing) and what ``query`` finds on it."""
    day = parse_business_date(business_date)
    with transaction(context.current().sessions) as session:
        return day, query(session, day)


def _print_dues(rows: list[q.OrderDue], empty: str) -> None:
    if not rows:
        click.echo(empty)
    for r in rows:
        prov = " provisional" if r.provisional else ""
        click.echo(
            f"{r.order_id:<20} {r.volunteer_no} {r.state:<9} {r.result} due {r.due}{prov} (day0 {r.day0})"
        )


@cli.command("overdue")
@business_date_option
def overdue(business_date: str | None) -> None:
    """Orders whose PRODUCED or NOTIFIED result is late (bank.md "Service levels")."""
    day, rows = _rows_on(business_date, q.overdue_orders)
    _print_dues(rows, f"no order overdue on {day}")


@cli.command("due-soon")
@business_date_option
def due_soon(business_date: str | None) -> None:
    """Orders due within two working days without their result (chase the bank)."""
    day, rows = _rows_on(business_date, q.due_soon_orders)
    _print_dues(rows, f"no order due within two working days of {day}")


@cli.command("at-risk")
@business_date_option
def at_risk(business_date: str | None) -> None:
    """Cards waiting at the branch within 30 days of their pickup deadline."""
    day, rows = _rows_on(business_date, q.at_risk_cards)
    if not rows:
        click.echo(f"no card at risk on {day}")
    for r in rows:
        click.echo(
            f"{r.card_id or '-':<16} {r.volunteer_no} branch {r.branch_code} notified {r.notified_on} "
            f"deadline {r.pickup_deadline} ({r.days_left} days left)"
        )
