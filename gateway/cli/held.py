"""`svcard cards held|release|discard`: bank events held for an operator (bank.md "Order
across files"). Added to the foundation's ``cards`` group when it exists.

No PII is printed: cards by the bank's token, volunteers by number.
"""

from __future__ import annotations

import getpass
import importlib
from datetime import timedelta

import click

from gateway import context
from gateway.db import transaction
from gateway.domain.errors import DomainError
from gateway.models.cards import HeldStatus
from gateway.timeutil import BEIJING, utcnow


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _fail(exc: DomainError) -> None:
    click.echo(f"svcard: {exc.code}: {exc.message}", err=True)
    raise SystemExit(1)


@click.command("held")
@click.option(
    "--status",
    type=click.Choice([HeldStatus.HELD, HeldStatus.RELEASED, HeldStatus.DISCARDED]),
    default=HeldStatus.HELD,
    show_default=True,
)
def held(status: str) -> None:
    """List bank events held for an operator, oldest first."""
    # the bank's exchange code loads for these commands, not for every `svcard cards ...`
    from gateway.partners.bank import events as bev

    with transaction(context.current().sessions) as session:
        rows = bev.held_events(session, status=status)
        if not rows:
            click.echo(f"no {status.lower()} events")
        for h in rows:
            when = h.event_time.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if h.event_time else "-"
            where = f"{h.source_file or '-'}:{h.source_line or '-'}"
            click.echo(
                f"#{h.id:<6} {h.event:<17} card {h.card_id or '-':<16} {when}  {h.reason_code:<18} "
                f"{h.reason}  [{where}]" + (f"  note: {h.note}" if h.note else "")
            )


def _resolve(action: str, held_id: int, note: str) -> None:
    # the bank's exchange code loads for these commands, not for every `svcard cards ...`
    from gateway.partners.bank import events as bev

    if not note.strip():
        raise click.BadParameter("an operator's note is required", param_hint="--note")
    with transaction(context.current().sessions) as session:
        try:
            fn = bev.release if action == "release" else bev.discard
            done = fn(session, held_id, actor=_actor(), note=note)
        except DomainError as exc:
            session.rollback()
            _fail(exc)
        verb = "released" if action == "release" else "discarded"
        click.echo(f"#{held_id} {verb}")
        for h in done:
            if h.id != held_id:
                click.echo(f"#{h.id} applied after it ({h.event})")
        tokens = {d.card_id for d in done if d.card_id}
        pks = {d.card_pk for d in done if d.card_pk}
        rest = [h for h in bev.held_events(session) if h.card_id in tokens or h.card_pk in pks]
        for h in rest:
            click.echo(f"#{h.id} still held: {h.reason_code} {h.reason}")


@click.command("release")
@click.argument("held_id", type=int)
@click.option("--note", required=True, help="Why it may now be applied (recorded).")
def release(held_id: int, note: str) -> None:
    """Re-apply held event HELD_ID, then the card's events held behind it."""
    _resolve("release", held_id, note)


@click.command("discard")
@click.argument("held_id", type=int)
@click.option("--note", required=True, help="Why it is dropped (recorded).")
def discard(held_id: int, note: str) -> None:
    """Drop held event HELD_ID (never applied); the events behind it are tried again."""
    _resolve("discard", held_id, note)


@click.command("resend-order")
@click.argument("order_id")
def resend_order(order_id: str) -> None:
    """Send ORDER_ID again (same id) in the next CARDORDER, after an operator corrected the
    record the bank listed as a record error (or our writer refused)."""
    # the bank's exchange code loads for these commands, not for every `svcard cards ...`
    from gateway.partners.bank import exchange as bx

    with transaction(context.current().sessions) as session:
        try:
            order = bx.resend_order(session, order_id, actor=_actor())
        except DomainError as exc:
            session.rollback()
            _fail(exc)
        click.echo(f"{order.order_id}: PENDING, goes in the next CARDORDER")


@click.command("not-sent")
def not_sent() -> None:
    """Orders and CARDREQ requests that did not go (refused by our writer) or that the bank
    listed as record errors: each waits for an operator's correction."""
    # the bank's exchange code loads for these commands, not for every `svcard cards ...`
    from gateway.partners.bank import events as bev

    with transaction(context.current().sessions) as session:
        orders, requests = bev.not_sent(session)
        if not orders and not requests:
            click.echo("nothing waiting")
        for o in orders:
            click.echo(
                f"order   {o.order_id:<20} {o.order_type:<5} volunteer {o.volunteer.volunteer_no or '-'} "
                f"{o.status:<12} {o.record_error or ''}".rstrip()
            )
        for r in requests:
            click.echo(
                f"request {r.request_id:<20} {r.request_type:<12} volunteer {r.volunteer.volunteer_no or '-'} "
                f"{r.status:<8} {r.outcome or ''}".rstrip()
            )


COMMANDS = [held, release, discard, resend_order, not_sent]


@click.group("transit")
def transit_group() -> None:
    """Shenzhen Tong requests that need an operator."""


@transit_group.command("requests")
@click.option("--unanswered-days", default=2, show_default=True, help="List SENT requests older than this.")
def transit_requests(unanswered_days: int) -> None:
    """FAILED and REJECTED requests, requests our writer refused (still pending), and
    requests unanswered for too long (to chase)."""
    # Shenzhen Tong's exchange code loads for these commands, not for every `svcard cards ...`
    from gateway.services import transit as ts

    with transaction(context.current().sessions) as session:
        rows = (
            ts.needing_operator(session)
            + ts.refused_by_writer(session)
            + ts.unanswered(session, utcnow() - timedelta(days=unanswered_days))
        )
        if not rows:
            click.echo("nothing to do")
        for r in rows:
            sent = r.sent_at.astimezone(BEIJING).strftime("%Y-%m-%d") if r.sent_at else "-"
            why = " ".join(x for x in (r.reason_code or "", r.note or "") if x)
            click.echo(
                f"{r.request_id:<20} {r.action:<7} card {r.card_id} volunteer {r.volunteer_no} "
                f"{r.status:<8} sent {sent} {why}".rstrip()
            )


@transit_group.command("retry")
@click.argument("request_id")
@click.option("--note", required=True, help="Why it is raised again (recorded).")
def transit_retry(request_id: str, note: str) -> None:
    """Raise a FAILED/REJECTED request again: the next TRANSITREQ carries a new request id."""
    # Shenzhen Tong's exchange code loads for these commands, not for every `svcard cards ...`
    from gateway.services import transit as ts

    with transaction(context.current().sessions) as session:
        try:
            new = ts.retry(session, request_id, actor=_actor(), note=note)
        except DomainError as exc:
            session.rollback()
            _fail(exc)
        if new is None:
            click.echo(f"{request_id}: nothing to send (the card no longer needs it)")
        else:
            click.echo(
                f"{request_id}: raised again as {new.request_id} ({new.action}), in the next TRANSITREQ"
            )


def _cards_group() -> click.Group | None:
    try:
        module = importlib.import_module("gateway.cli.cards")
    except ModuleNotFoundError:
        return None
    found = module.cli if isinstance(module.cli, list) else [module.cli]
    return next((c for c in found if isinstance(c, click.Group) and c.name == "cards"), None)


_group = _cards_group()
if _group is None:

    @click.group("cards")
    def _own_group() -> None:
        """Cards: events held for an operator."""

    _group = _own_group
    cli: list[click.Command] = [_group, transit_group]
else:
    cli = [transit_group]  # the foundation's cards group is registered already; ours join it
for _command in COMMANDS:
    _group.add_command(_command)
