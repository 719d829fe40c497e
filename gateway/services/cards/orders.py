"""Card orders: placed (one, or the first orders of a bulk import), sent in a CARDORDER,
refused as a record error by the bank's ACK, sent again once corrected."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain import ids
from gateway.domain.errors import Conflict
from gateway.domain.lifecycle import CardEventType as E
from gateway.domain.lifecycle import CardState, OrderRefused, check_order_allowed
from gateway.models import Card, CardEvent, Order, Volunteer
from gateway.models.cards import OrderStatus, OrderType, RequestStatus, RequestType
from gateway.models.volunteers import VolunteerStatus
from gateway.services.cards.lookups import credit_cut_closed, open_renewal
from gateway.services.cards.rows import DEAD, EventSource, close_requests, new_card
from gateway.timeutil import beijing_date, utcnow


def place_order(
    session: Session,
    volunteer: Volunteer,
    *,
    source: EventSource,
    order_type: str = OrderType.NEW,
    replaces: Card | None = None,
    carrier: str | None = None,
    branch_code: str | None = None,
    reason: str | None = None,
    by_operator: bool = False,
    now: datetime | None = None,
) -> Order:
    """A card order in state ``PENDING`` (the bank adapter sends it in the next CARDORDER)
    and its card record in ``ORDERED``. Eligibility is the caller's job (``approve`` and
    the import check it); this enforces the lifecycle's ordering rules:

    - the volunteer is registered (official, not deregistered) — ``NOT_REGISTERED``;
    - ``CREDIT_CUT_CLOSED`` (bank.md "The card's life" 4);
    - NEW: no live card or open order already — ``HAS_LIVE_CARD``;
    - RENEW: ``replaces`` is collected or waiting, with no open renewal — ``RENEW_EXISTS``.
    """
    now = now or utcnow()
    if volunteer.status != VolunteerStatus.OFFICIAL or volunteer.volunteer_no is None:
        raise Conflict("NOT_REGISTERED", "only a registered volunteer gets a card order", "volunteer_no")
    carrier = carrier or (replaces.carrier if replaces else volunteer.carrier)
    branch_code = branch_code or (replaces.branch_code if replaces else volunteer.branch_code)
    if carrier is None or branch_code is None:
        raise Conflict(
            "INCOMPLETE",
            "carrier and branch must be chosen first",
            "carrier" if carrier is None else "branch_code",
        )
    try:
        check_order_allowed(
            order_type=order_type,
            carrier=carrier,
            credit_cut_closed=credit_cut_closed(session, volunteer),
            by_operator=by_operator,
            reason=reason,
        )
    except OrderRefused as exc:
        raise Conflict(exc.code, exc.message, "carrier") from None
    if order_type == OrderType.NEW:
        live = session.scalar(
            select(Card.id).where(Card.volunteer_id == volunteer.id, Card.state.not_in(DEAD)).limit(1)
        )
        if live is not None:
            raise Conflict("HAS_LIVE_CARD", "the volunteer already has a live card or an open order")
    elif order_type == OrderType.RENEW:
        if replaces is None or replaces.state not in (CardState.IN_USE, CardState.NOTIFIED):
            raise Conflict("NOT_RENEWABLE", "only a collected or waiting card can be renewed", "card_id")
        if open_renewal(session, replaces) is not None:
            raise Conflict("RENEW_EXISTS", "the card already has an open renewal", "card_id")
    else:
        raise Conflict("ORDER_TYPE", "order type must be NEW or RENEW", "order_type")

    order = _build_order(
        session, volunteer, order_type=order_type, carrier=carrier, branch_code=branch_code,
        reason=reason, source=source, now=now, replaces=replaces,
    )  # fmt: skip
    session.flush()
    return order


def _build_order(
    session: Session,
    volunteer: Volunteer,
    *,
    order_type: str,
    carrier: str,
    branch_code: str,
    reason: str | None,
    source: EventSource,
    now: datetime,
    replaces: Card | None = None,
) -> Order:
    """The order, its ORDERED card with four OFF functions, and the CREATED event, linked by
    relationships so that many can be written in one flush."""
    kind = ids.ORDER_NEW if order_type == OrderType.NEW else ids.ORDER_RENEW
    order = Order(
        order_id=ids.new_id(kind, now),
        order_type=order_type,
        volunteer=volunteer,
        carrier=carrier,
        branch_code=branch_code,
        status=OrderStatus.PENDING,
        reason=(reason or None) and reason[:200],
        created_by=source.actor[:64],
        created_at=now,
        due_provisional=False,
    )
    card = new_card(
        volunteer,
        carrier=carrier,
        branch_code=branch_code,
        state=CardState.ORDERED,
        order=order,
        replaces=replaces,
    )
    payload = {"order_id": order.order_id, "order_type": order_type, **({"reason": reason} if reason else {})}
    card.events.append(
        CardEvent(
            event=E.CREATED, event_time=now, event_date=beijing_date(now), applied_at=utcnow(),
            from_state=None, to_state=CardState.ORDERED, source_file=source.source_file,
            source_line=source.source_line, request_id=source.request_id, actor=source.actor,
            inferred=False, payload=payload,
        )
    )  # fmt: skip
    session.add_all([order, card])
    return order


def place_first_orders(
    session: Session, volunteers: list[Volunteer], *, source: EventSource, now: datetime | None = None
) -> list[Order]:
    """NEW orders (PENDING) for registered volunteers who have never had a card, written in
    one flush (the bulk import). The caller guarantees "never had a card", which makes the
    ordering rules of ``place_order`` hold trivially."""
    now = now or utcnow()
    orders = []
    for v in volunteers:
        if v.status != VolunteerStatus.OFFICIAL or not v.carrier or not v.branch_code:
            raise Conflict(
                "NOT_REGISTERED", "only a registered volunteer with a carrier and branch gets an order"
            )
        orders.append(
            _build_order(
                session,
                v,
                order_type=OrderType.NEW,
                carrier=v.carrier,
                branch_code=v.branch_code,
                reason=None,
                source=source,
                now=now,
            )  # fmt: skip
        )
    session.flush()
    return orders


def mark_sent(session: Session, orders: list[Order], *, file_name: str, at: datetime) -> None:
    """The bank adapter uploaded ``orders`` in ``file_name`` (awaiting the bank's ACK)."""
    for order in orders:
        if order.status not in (OrderStatus.PENDING, OrderStatus.SENT):
            raise Conflict("ORDER_NOT_PENDING", f"order {order.order_id} is {order.status}", "order_id")
        order.status, order.sent_file = OrderStatus.SENT, file_name[:80]
        if order.sent_at is None:
            order.sent_at = at
    session.flush()


def mark_record_error(session: Session, order: Order, *, error: str) -> None:
    """The bank's PARTIAL ACK listed the order as a record error (``line:n:field:reason``):
    closed as rejected for now, no service level, no CANCEL_ORDER needed; the card stays
    ORDERED so that an operator can correct the data and ``requeue_order`` it (same
    order_id, next SEQ) or cancel it (withdrawn)."""
    order.status, order.record_error = OrderStatus.RECORD_ERROR, error[:200]
    close_requests(session, order=order, status=RequestStatus.WITHDRAWN, outcome="order was a record error",
                    at=utcnow(), request_type=RequestType.CANCEL_ORDER)  # fmt: skip
    session.flush()


def requeue_order(session: Session, order: Order, *, actor: str) -> None:
    """After an operator corrected the volunteer's data: send the order again (same id)."""
    if (
        order.status != OrderStatus.RECORD_ERROR
        or order.card is None
        or order.card.state != CardState.ORDERED
    ):
        raise Conflict("ORDER_NOT_REQUEUABLE", "only an order refused as a record error can be sent again")
    order.status = OrderStatus.PENDING
    session.flush()
