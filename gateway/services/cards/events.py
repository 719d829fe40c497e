"""Card lifecycle events applied: what the event proves first (inferred), the state moved
by the lifecycle table, the immutable event rows, and the effects the domain's tables give
(``gateway.domain.effects``): on the order, its requests, the card's fields and functions,
and the follow-ups (a renewal ordered, a replacement card made, a renewal not yet
produced cancelled when its card dies)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain import calendar as cal_rules
from gateway.domain import functions as fn
from gateway.domain import ids
from gateway.domain.effects import Effects, death_of, effects_of
from gateway.domain.errors import Conflict
from gateway.domain.functions import Function, FunctionState, OffReason
from gateway.domain.lifecycle import (
    NOT_PRODUCED_STATES,
    CardEventType,
    CardState,
    apply,
    inferred_before,
)
from gateway.models import Card, CardEvent, CardRequest, Order, Volunteer
from gateway.models.cards import OrderStatus, OrderType, RequestStatus, RequestType
from gateway.models.volunteers import VolunteerStatus
from gateway.services.cards.lookups import open_renewal
from gateway.services.cards.orders import place_order
from gateway.services.cards.rows import (
    Applied,
    EventSource,
    append_event,
    close_requests,
    new_card,
    open_request,
)
from gateway.timeutil import beijing_date, utcnow

E = CardEventType


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
        row = append_event(
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
    inferred event, take its dates and fields, change no state."""
    eff = effects_of(event)
    if not eff.completes_inferred:
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
    _take_dates_and_fields(card, eff, event_time, day, payload, inferred=False)
    return append_event(
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
    _take_dates_and_fields(card, eff, event_time, day, payload, inferred)
    if order is not None:
        if eff.reject_reason:
            order.reject_code = payload.get("reason_code")
            order.reject_text = (payload.get("reason_text") or None) and payload["reason_text"][:100]
        if eff.close_order:
            _close_order(order, now)
        if eff.cancel_requests:
            close_requests(
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
    death = death_of(event, before, after)
    if death is not None:
        if death.of_live_card or card.dead_at is None:
            card.dead_at = event_time
        if death.of_live_card:
            _switch_off_all(card, death.off_reason, health_moves=death.health_moves)
            _cancel_renewal_not_produced(session, card, source, event_time)
        close_requests(
            session,
            card=card,
            status=RequestStatus.CLOSED,
            outcome=f"closed by {event}",
            at=now,
            request_type=RequestType.LOSS_REPORT,
            before=event_time,
        )


def _take_dates_and_fields(
    card: Card, eff: Effects, event_time: datetime, day: date, payload: dict[str, Any], inferred: bool
) -> None:
    """The card's and its order's fields and dates the event's row names."""
    if eff.card_fields:
        _take_card_fields(card, payload)
    if eff.notified:
        card.notified_on, card.notified_inferred = day, inferred
        card.pickup_deadline = cal_rules.pickup_deadline(day)
    if eff.card_time:
        setattr(card, eff.card_time, event_time)
    order = card.order
    if order is not None and eff.order_date and (eff.order_date_if_inferred or not inferred):
        setattr(order, eff.order_date, day)


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


def _switch_off_all(card: Card, reason: OffReason, *, health_moves: bool) -> None:
    for f in card.functions:
        function = Function(f.function)
        if health_moves and function is Function.HEALTH:
            # The replacement's EnrollCard moves the health card: no SuspendCard for the old one.
            f.set_state(FunctionState.OFF, reason)
            continue
        # set_state changes nothing of a function switch_off leaves as it is (its reason stays)
        f.set_state(fn.switch_off(function, FunctionState(f.state)), reason)


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
    new = new_card(
        old.volunteer,
        carrier=old.carrier,
        branch_code=old.branch_code,
        state=CardState.NOTIFIED,
        order=None,
        replaces=old,
    )
    new.card_id = payload.get("new_card_id")
    new.masked_pan = payload.get("new_masked_pan")
    new.expiry = payload.get("new_expiry")
    new.notified_on = day
    new.pickup_deadline = cal_rules.pickup_deadline(day)
    session.add(new)
    session.flush()  # its id, for its event and the old card's replaced_by
    append_event(
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
    req, _new = open_request(
        session, RequestType.CANCEL_ORDER, ids.REQUEST_CANCEL, order.volunteer_id, at, reason, source,
        order_pk=order.id,
    )  # fmt: skip
    return req
