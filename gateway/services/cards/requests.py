"""What volunteers and operators ask of cards: a loss report, a bank event held for an
operator and its resolution, and what a deregistration does to the volunteer's cards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain import functions as fn
from gateway.domain import ids
from gateway.domain.errors import Conflict
from gateway.domain.functions import Function, FunctionState, OffReason
from gateway.domain.lifecycle import NOT_PRODUCED_STATES, is_dead
from gateway.domain.lifecycle import CardEventType as E
from gateway.models import Card, CardRequest, HeldEvent, Volunteer
from gateway.models.cards import HeldStatus, OrderStatus, RequestType
from gateway.services.cards.events import apply_event, cancel_order
from gateway.services.cards.rows import EventSource, open_request
from gateway.timeutil import utcnow


def request_loss(
    session: Session, card: Card, *, source: EventSource, reason: str, at: datetime
) -> CardRequest:
    """The volunteer reported the card lost on the platform: a pending LOSS_REPORT request
    and the "loss requested" marker until the bank's LOST_REPORTED (or another death)."""
    if card.card_id is None or is_dead(card.state):
        raise Conflict("CARD_NOT_LOSABLE", "only a produced, live card can be reported lost", "card_id")
    req, new = open_request(
        session,
        RequestType.LOSS_REPORT,
        ids.REQUEST_LOSS,
        card.volunteer_id,
        at,
        reason,
        source,
        card_pk=card.id,
    )
    if not new:
        return req
    apply_event(
        session, card, E.LOSS_REQUESTED, event_time=at, source=source, payload={"request_id": req.request_id}
    )
    return req


def hold_event(
    session: Session,
    *,
    card: Card | None,
    card_id: str | None,
    event: str,
    event_time: datetime | None,
    source: EventSource,
    payload: dict[str, Any],
    reason_code: str,
    reason: str,
) -> HeldEvent:
    """Hold a bank event for an operator (it made no sense for the card, or an earlier one is held)."""
    row = HeldEvent(
        card_pk=card.id if card else None,
        card_id=card_id,
        event=event,
        event_time=event_time,
        source_file=source.source_file,
        source_line=source.source_line,
        payload=payload,
        reason_code=reason_code[:32],
        reason=reason[:200],
        status=HeldStatus.HELD,
    )
    session.add(row)
    session.flush()
    return row


def resolve_held(
    session: Session, held: HeldEvent, *, status: str, actor: str, note: str | None = None
) -> None:
    """Mark a held event released (the caller re-applies it) or discarded."""
    if status not in (HeldStatus.RELEASED, HeldStatus.DISCARDED):
        raise ValueError(status)
    if held.status != HeldStatus.HELD:
        raise Conflict("NOT_HELD", "the event is no longer held")
    held.status, held.resolved_at, held.resolved_by, held.note = status, utcnow(), actor[:64], note


def deregister_cards(
    session: Session, volunteer: Volunteer, *, source: EventSource, at: datetime
) -> list[CardRequest]:
    """Deregistration's effect on cards (bank.md "The card's life" 7): health card,
    insurance and donation credit end on every card; financial and transit stay; every
    order not yet PRODUCED is withdrawn (never sent) or asked to be cancelled."""
    requests = []
    for card in session.scalars(select(Card).where(Card.volunteer_id == volunteer.id).order_by(Card.id)):
        for f in card.functions:
            function = Function(f.function)
            if function in fn.ENDED_BY_DEREGISTRATION:
                f.set_state(fn.switch_off(function, FunctionState(f.state)), OffReason.DEREGISTERED)
        order = card.order
        if order is not None and card.state in NOT_PRODUCED_STATES and order.status != OrderStatus.CLOSED:
            req = cancel_order(session, order, source=source, reason="volunteer deregistered", at=at)
            if req is not None:
                requests.append(req)
    session.flush()
    return requests
