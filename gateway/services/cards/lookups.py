"""Card look-ups: by bank token, order id or volunteer; what the bank already sent; what
is held; a card's function row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.errors import NotFound
from gateway.domain.functions import Function
from gateway.domain.lifecycle import CardState
from gateway.models import Card, CardEvent, CardFunction, HeldEvent, Order, Volunteer
from gateway.models.cards import HeldStatus, OrderType
from gateway.services.cards.rows import DEAD


def card_by_token(session: Session, card_id: str) -> Card | None:
    return session.scalar(select(Card).where(Card.card_id == card_id))


def order_by_id(session: Session, order_id: str) -> Order:
    order = session.scalar(select(Order).where(Order.order_id == order_id))
    if order is None:
        raise NotFound("ORDER_NOT_FOUND", "no such order", "order_id")
    return order


def recorded_result(session: Session, card: Card, result: str) -> CardEvent | None:
    """The bank's own (not inferred) CARDRESULT ``result`` already recorded for the card —
    a result is identified by (order_id, result); the exchange compares a resend with it."""
    return session.scalar(
        select(CardEvent)
        .where(CardEvent.card_pk == card.id, CardEvent.event == result, CardEvent.inferred.is_(False))
        .order_by(CardEvent.id)
        .limit(1)
    )


def has_held_events(session: Session, card: Card) -> bool:
    """True while an event for this card is held: later events must be held behind it."""
    return (
        session.scalar(
            select(HeldEvent.id)
            .where(HeldEvent.card_pk == card.id, HeldEvent.status == HeldStatus.HELD)
            .limit(1)
        )
        is not None
    )


def credit_cut_closed(session: Session, volunteer: Volunteer) -> bool:
    return (
        session.scalar(
            select(Card.id)
            .where(
                Card.volunteer_id == volunteer.id,
                Card.carrier == "CREDIT",
                Card.state == CardState.CUT_CLOSED,
            )
            .limit(1)
        )
        is not None
    )


def function_state(card: Card, function: Function) -> CardFunction:
    for f in card.functions:
        if f.function == function:
            return f
    raise LookupError(function)  # every card gets its four rows at creation


def open_renewal(session: Session, card: Card) -> Order | None:
    """The card's open RENEW order (its card not dead), if any."""
    return session.scalar(
        select(Order)
        .join(Card, Card.order_pk == Order.id)
        .where(
            Order.order_type == OrderType.RENEW,
            Card.replaces_pk == card.id,
            Card.state.not_in(DEAD),
        )
        .limit(1)
    )


def card_for_volunteer(session: Session, volunteer: Volunteer, card_id: str | None = None) -> Card:
    """The named card of the volunteer, or their newest live physical card."""
    query = select(Card).where(Card.volunteer_id == volunteer.id)
    if card_id:
        query = query.where(Card.card_id == card_id)
    else:
        query = query.where(Card.state.in_([CardState.PRODUCED, CardState.NOTIFIED, CardState.IN_USE]))
    card = session.scalar(query.order_by(Card.id.desc()).limit(1))
    if card is None:
        raise NotFound("CARD_NOT_FOUND", "no such card for this volunteer", "card_id")
    return card
