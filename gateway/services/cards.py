"""Card use cases: place an order, apply a lifecycle event, hold an event for an operator.

Everything runs in the caller's session and transaction (one inbound file = one
transaction, one API request = one transaction); nothing here commits, and nothing talks
to a partner. Adapters read what this leaves behind: pending orders, pending card
requests, and function states ``ON_DUE``/``OFF_DUE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain import calendar as cal_rules
from gateway.domain import functions as fn
from gateway.domain import ids
from gateway.domain.effects import effects_of
from gateway.domain.errors import Conflict, NotFound
from gateway.domain.functions import Function, FunctionState, OffReason
from gateway.domain.lifecycle import (
    DEAD_STATES,
    NOT_PRODUCED_STATES,
    CardEventType,
    CardState,
    OrderRefused,
    apply,
    check_order_allowed,
    inferred_before,
    is_dead,
)
from gateway.models import Card, CardEvent, CardFunction, CardRequest, HeldEvent, Order, Volunteer
from gateway.models.cards import HeldStatus, OrderStatus, OrderType, RequestStatus, RequestType
from gateway.models.volunteers import VolunteerStatus
from gateway.timeutil import BEIJING, beijing_date, utcnow

E = CardEventType
_DEAD = sorted(str(s) for s in DEAD_STATES)


@dataclass(frozen=True)
class EventSource:
    """Where a change came from: a file line, an API request, a command; and who."""

    actor: str
    source_file: str | None = None
    source_line: int | None = None
    request_id: str | None = None


@dataclass
class Applied:
    """What ``apply_event`` did. ``events`` are the rows appended (inferred ones first)."""

    card: Card
    events: list[CardEvent] = field(default_factory=list)
    new_card: Card | None = None  # REISSUED: the replacement; EXPIRING: the renewal's card
    duplicate: bool = False  # a bank event_id seen before: nothing changed
    completed: bool = False  # the bank's result completed an inferred event
    notes: list[str] = field(default_factory=list)  # e.g. why an EXPIRING ordered no renewal


def beijing_midnight(day: date) -> datetime:
    """The instant a Beijing date starts (for CARDRESULT lines, which carry only a date)."""
    return datetime.combine(day, time(0), BEIJING).astimezone(UTC)


# ------------------------------------------------------------------ look-ups


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


# ------------------------------------------------------------------ orders


def _new_card(
    session: Session,
    volunteer: Volunteer,
    *,
    carrier: str,
    branch_code: str,
    state: CardState,
    order: Order | None,
) -> Card:
    card = Card(
        volunteer_id=volunteer.id,
        order=order,
        carrier=carrier,
        branch_code=branch_code,
        state=state,
        notified_inferred=False,
    )
    session.add(card)
    for f in Function:
        card.functions.append(CardFunction(function=f, state=FunctionState.OFF))
    session.flush()
    return card


def _append(
    session: Session,
    card: Card,
    event: CardEventType,
    *,
    event_time: datetime,
    event_date: date | None,
    source: EventSource,
    from_state: str | None,
    to_state: str | None,
    inferred: bool = False,
    payload: dict[str, Any] | None = None,
    bank_event_id: str | None = None,
    completes: CardEvent | None = None,
) -> CardEvent:
    row = CardEvent(
        card_pk=card.id,
        event=event,
        event_time=event_time,
        event_date=event_date or beijing_date(event_time),
        applied_at=utcnow(),
        from_state=from_state,
        to_state=to_state,
        source_file=source.source_file,
        source_line=source.source_line,
        request_id=source.request_id,
        actor=source.actor,
        inferred=inferred,
        completes_pk=completes.id if completes else None,
        bank_event_id=bank_event_id,
        payload=payload or {},
    )
    session.add(row)
    session.flush()
    return row


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
            select(Card.id).where(Card.volunteer_id == volunteer.id, Card.state.not_in(_DEAD)).limit(1)
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
    card = Card(
        volunteer=volunteer,
        order=order,
        carrier=carrier,
        branch_code=branch_code,
        state=CardState.ORDERED,
        notified_inferred=False,
        replaces=replaces,
    )
    card.functions = [CardFunction(function=f, state=FunctionState.OFF) for f in Function]
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
    _close_requests(session, order=order, status=RequestStatus.WITHDRAWN, outcome="order was a record error",
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


def open_renewal(session: Session, card: Card) -> Order | None:
    """The card's open RENEW order (its card not dead), if any."""
    return session.scalar(
        select(Order)
        .join(Card, Card.order_pk == Order.id)
        .where(
            Order.order_type == OrderType.RENEW,
            Card.replaces_pk == card.id,
            Card.state.not_in(_DEAD),
        )
        .limit(1)
    )


# ------------------------------------------------------------------ events


def apply_event(
    session: Session,
    card: Card,
    event: CardEventType | str,
    *,
    event_time: datetime,
    source: EventSource,
    event_date: date | None = None,
    payload: dict[str, Any] | None = None,
    bank_event_id: str | None = None,
) -> Applied:
    """Apply one lifecycle event to ``card``: record what it proves first (inferred), move
    the state, append the immutable event(s), and update orders, requests and function
    states. Raises ``LifecycleError`` (nothing changed) when the event does not fit.

    ``payload`` carries the record's fields: for PRODUCED/NOTIFIED ``card_id``,
    ``masked_pan``, ``expiry``, ``branch_code``; for REJECTED ``reason_code``,
    ``reason_text``; for REISSUED ``new_card_id``, ``new_masked_pan``, ``new_expiry``.
    ``event_date`` defaults to the Beijing date of ``event_time``."""
    event = CardEventType(event)
    payload = dict(payload or {})
    result = Applied(card)
    if bank_event_id is not None and session.scalar(
        select(CardEvent.id).where(CardEvent.bank_event_id == bank_event_id)
    ):
        result.duplicate = True
        return result
    day = event_date or beijing_date(event_time)

    completed = _complete_inferred(session, card, event, event_time, day, source, payload, bank_event_id)
    if completed is not None:
        result.events.append(completed)
        result.completed = True
        return result

    # Check the whole chain first, so a refusal changes nothing.
    chain = [(e, True) for e in inferred_before(card.state, event)] + [(event, False)]
    state = CardState(card.state)
    for e, _ in chain:
        state = apply(state, e, card.carrier)

    for e, inferred in chain:
        before = CardState(card.state)
        after = apply(before, e, card.carrier)
        row = _append(
            session,
            card,
            e,
            event_time=event_time,
            event_date=day,
            source=source,
            from_state=before,
            to_state=after,
            inferred=inferred,
            payload={"inferred_from": str(event)} if inferred else payload,
            bank_event_id=None if inferred else bank_event_id,
        )
        result.events.append(row)
        card.state = after
        _effects(session, card, e, before, after, event_time, day, source, payload, inferred, result)
    session.flush()
    return result


def _complete_inferred(
    session: Session,
    card: Card,
    event: CardEventType,
    event_time: datetime,
    day: date,
    source: EventSource,
    payload: dict[str, Any],
    bank_event_id: str | None,
) -> CardEvent | None:
    """The bank's own ACCEPTED/NOTIFIED after we inferred it: record it as completing the
    inferred event, take its dates, change no state."""
    if event not in (E.ACCEPTED, E.NOTIFIED):
        return None
    inferred = session.scalar(
        select(CardEvent).where(
            CardEvent.card_pk == card.id, CardEvent.event == event, CardEvent.inferred.is_(True)
        )
    )
    if inferred is None:
        return None
    already = session.scalar(select(CardEvent.id).where(CardEvent.completes_pk == inferred.id))
    if already is not None:
        return None
    order = card.order
    if event is E.ACCEPTED and order is not None:
        order.accepted_on = day
    if event is E.NOTIFIED:
        card.notified_on, card.notified_inferred = day, False
        card.pickup_deadline = cal_rules.pickup_deadline(day)
        _take_card_fields(card, payload)
        if order is not None:
            order.notified_on = day
    return _append(
        session,
        card,
        event,
        event_time=event_time,
        event_date=day,
        source=source,
        from_state=card.state,
        to_state=card.state,
        payload=payload,
        bank_event_id=bank_event_id,
        completes=inferred,
    )


def _take_card_fields(card: Card, payload: dict[str, Any]) -> None:
    for key in ("card_id", "masked_pan", "expiry", "branch_code"):
        if payload.get(key):
            setattr(card, key, payload[key])


def _close_order(order: Order | None, at: datetime) -> None:
    if order is not None and order.status != OrderStatus.CLOSED:
        order.status, order.closed_at = OrderStatus.CLOSED, at


def _close_requests(
    session: Session,
    *,
    card: Card | None = None,
    order: Order | None = None,
    status: str,
    outcome: str,
    at: datetime,
    request_type: str,
    before: datetime | None = None,
) -> None:
    query = select(CardRequest).where(
        CardRequest.request_type == request_type, CardRequest.status.in_(RequestStatus.OPEN)
    )
    if card is not None:
        query = query.where(CardRequest.card_pk == card.id)
    if order is not None:
        query = query.where(CardRequest.order_pk == order.id)
    for req in session.scalars(query):
        if before is not None and req.request_time > before:
            continue  # a loss report is closed only by an event after it was raised
        req.status, req.outcome, req.closed_at = status, outcome[:100], at


def _effects(
    session: Session,
    card: Card,
    event: CardEventType,
    before: CardState,
    after: CardState,
    event_time: datetime,
    day: date,
    source: EventSource,
    payload: dict[str, Any],
    inferred: bool,
    result: Applied,
) -> None:
    order = card.order
    now = utcnow()
    eff = effects_of(event)
    if eff.card_fields:
        _take_card_fields(card, payload)
    if eff.notified:
        card.notified_on, card.notified_inferred = day, inferred
        card.pickup_deadline = cal_rules.pickup_deadline(day)
    if eff.card_time:
        setattr(card, eff.card_time, event_time)
    if order is not None:
        if eff.order_date and (eff.order_date_if_inferred or not inferred):
            setattr(order, eff.order_date, day)
        if eff.reject_reason:
            order.reject_code = payload.get("reason_code")
            order.reject_text = (payload.get("reason_text") or None) and payload["reason_text"][:100]
        if eff.close_order:
            _close_order(order, now)
        if eff.cancel_requests:
            _close_requests(
                session,
                order=order,
                status=getattr(RequestStatus, eff.cancel_requests.status),
                outcome=eff.cancel_requests.outcome.format(reject_code=order.reject_code or "").strip(),
                at=now,
                request_type=RequestType.CANCEL_ORDER,
            )
    if eff.switch_on:
        _switch_on_collected(session, card, event_time, source)
    if eff.renew:
        result.new_card = _renew(session, card, source, event_time, result.notes)
    if eff.reissue:
        result.new_card = _reissue(session, card, event_time, day, source, payload)
        card.replaced_by_pk = result.new_card.id
    if is_dead(after) and not is_dead(before) and before not in NOT_PRODUCED_STATES:
        card.dead_at = event_time
        reason = OffReason.REPLACED if event is E.RENEWAL_COLLECTED else OffReason.CARD_DEAD
        _switch_off_all(card, reason, moved_health=event is E.RENEWAL_COLLECTED)
        _cancel_renewal_not_produced(session, card, source, event_time)
    if is_dead(after):
        if card.dead_at is None:
            card.dead_at = event_time
        _close_requests(
            session,
            card=card,
            status=RequestStatus.CLOSED,
            outcome=f"closed by {event}",
            at=now,
            request_type=RequestType.LOSS_REPORT,
            before=event_time,
        )


def _switch_on_collected(session: Session, card: Card, event_time: datetime, source: EventSource) -> None:
    """COLLECTED: the opted-in functions become due; a renewal replaces the old card."""
    v: Volunteer = card.volunteer
    registered = v.status == VolunteerStatus.OFFICIAL
    for f in card.functions:
        function = Function(f.function)
        if fn.wanted_on_collection(
            function, opt_transit=v.opt_transit, opt_health=v.opt_health, registered=registered
        ):
            f.set_state(fn.switch_on(function, FunctionState(f.state)), None)
    old = card.replaces
    if old is not None and card.order is not None and card.order.order_type == OrderType.RENEW:
        if old.state in (CardState.IN_USE, CardState.NOTIFIED):
            apply_event(
                session,
                old,
                E.RENEWAL_COLLECTED,
                event_time=event_time,
                source=source,
                payload={"renewed_by_order": card.order.order_id},
            )
            old.replaced_by_pk = card.id


def _switch_off_all(card: Card, reason: OffReason, *, moved_health: bool) -> None:
    for f in card.functions:
        function = Function(f.function)
        if moved_health and function is Function.HEALTH:
            # The replacement's EnrollCard moves the health card: no SuspendCard for the old one.
            if f.state != FunctionState.OFF:
                f.set_state(FunctionState.OFF, reason)
            continue
        new = fn.switch_off(function, FunctionState(f.state))
        f.set_state(new, reason if new != f.state else f.reason)


def _renew(
    session: Session, card: Card, source: EventSource, event_time: datetime, notes: list[str]
) -> Card | None:
    """EXPIRING: one RENEW order for a volunteer still registered; a second EXPIRING, or one
    for a deregistered volunteer, changes nothing."""
    v: Volunteer = card.volunteer
    if v.status != VolunteerStatus.OFFICIAL:
        notes.append("NOT_REGISTERED: no renewal for a deregistered volunteer")
        return None
    if open_renewal(session, card) is not None:
        notes.append("RENEW_EXISTS: the card already has an open renewal")
        return None
    try:
        order = place_order(
            session, v, source=source, order_type=OrderType.RENEW, replaces=card, now=event_time
        )
    except Conflict as exc:  # e.g. CREDIT_CUT_CLOSED: no automatic order; operators see the note
        notes.append(f"{exc.code}: {exc.message}")
        return None
    return order.card


def _reissue(
    session: Session, old: Card, event_time: datetime, day: date, source: EventSource, payload: dict[str, Any]
) -> Card:
    """REISSUED: a new card waits at the same branch; its pickup deadline runs from the
    REISSUED event_time date. It keeps the volunteer's history (same volunteer)."""
    new = _new_card(
        session,
        old.volunteer,
        carrier=old.carrier,
        branch_code=old.branch_code,
        state=CardState.NOTIFIED,
        order=None,
    )
    new.card_id = payload.get("new_card_id")
    new.masked_pan = payload.get("new_masked_pan")
    new.expiry = payload.get("new_expiry")
    new.replaces_pk = old.id
    new.notified_on = day
    new.pickup_deadline = cal_rules.pickup_deadline(day)
    _append(
        session,
        new,
        E.CREATED,
        event_time=event_time,
        event_date=day,
        source=source,
        from_state=None,
        to_state=CardState.NOTIFIED,
        payload={"reissue_of": old.card_id},
    )
    return new


def _cancel_renewal_not_produced(session: Session, old: Card, source: EventSource, at: datetime) -> None:
    """bank.md: if the old card dies before the renewal is PRODUCED, the RENEW is cancelled."""
    order = open_renewal(session, old)
    if order is None or order.card is None or order.card.state not in NOT_PRODUCED_STATES:
        return
    cancel_order(session, order, source=source, reason="renewed card died before production", at=at)


def cancel_order(
    session: Session, order: Order, *, source: EventSource, reason: str, at: datetime
) -> CardRequest | None:
    """Withdraw an order not yet produced: one never sent (or refused as a record error) is
    simply withdrawn; one the bank has is asked to be cancelled by a pending CANCEL_ORDER
    request (returned). Raises ``Conflict`` when the card was already produced."""
    card = order.card
    if card is None or card.state not in NOT_PRODUCED_STATES or order.status == OrderStatus.CLOSED:
        raise Conflict("ORDER_NOT_CANCELLABLE", "only an order not yet produced can be cancelled", "order_id")
    if order.status in (OrderStatus.PENDING, OrderStatus.RECORD_ERROR):
        apply_event(
            session, card, E.ORDER_WITHDRAWN, event_time=at, source=source, payload={"reason": reason[:100]}
        )
        return None
    req, _new = _open_request(
        session, RequestType.CANCEL_ORDER, ids.REQUEST_CANCEL, order.volunteer_id, at, reason, source,
        order_pk=order.id,
    )  # fmt: skip
    return req


def _open_request(
    session: Session,
    request_type: str,
    id_prefix: str,
    volunteer_id: int,
    at: datetime,
    reason: str,
    source: EventSource,
    **target: int,
) -> tuple[CardRequest, bool]:
    """The open request of this type for the card or order in ``target`` (``card_pk=`` or
    ``order_pk=``), or a new PENDING one; and whether it is new. A second report while one
    is open changes nothing."""
    ((column, pk),) = target.items()
    existing = session.scalar(
        select(CardRequest).where(
            getattr(CardRequest, column) == pk,
            CardRequest.request_type == request_type,
            CardRequest.status.in_(RequestStatus.OPEN),
        )
    )
    if existing is not None:
        return existing, False
    req = CardRequest(
        request_id=ids.new_id(id_prefix, at),
        request_type=request_type,
        volunteer_id=volunteer_id,
        request_time=at,
        reason=reason[:100],
        status=RequestStatus.PENDING,
        actor=source.actor[:64],
        **{column: pk},
    )
    session.add(req)
    session.flush()
    return req, True


def request_loss(
    session: Session, card: Card, *, source: EventSource, reason: str, at: datetime
) -> CardRequest:
    """The volunteer reported the card lost on the platform: a pending LOSS_REPORT request
    and the "loss requested" marker until the bank's LOST_REPORTED (or another death)."""
    if card.card_id is None or is_dead(card.state):
        raise Conflict("CARD_NOT_LOSABLE", "only a produced, live card can be reported lost", "card_id")
    req, new = _open_request(
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
                new = fn.switch_off(function, FunctionState(f.state))
                f.set_state(new, OffReason.DEREGISTERED if new != f.state else f.reason)
        order = card.order
        if order is not None and card.state in NOT_PRODUCED_STATES and order.status != OrderStatus.CLOSED:
            req = cancel_order(session, order, source=source, reason="volunteer deregistered", at=at)
            if req is not None:
                requests.append(req)
    session.flush()
    return requests


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
