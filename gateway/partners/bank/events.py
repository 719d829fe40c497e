"""BOCSZ's CARDRESULT and CARDSTATUS (bank.md): the bank's records become lifecycle events
(through ``gateway.services.cards.apply_event``, which owns the lifecycle rules and
inferences), held for an operator when they make no sense for the card as SVA knows it;
and the held-event queue operators work from. Our outbound files are in
``gateway.partners.bank.exchange``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters.bank.records import (
    CARDRESULT,
    CARDSTATUS,
    BankEvent,
    bank_event,
    in_event_order,
)
from gateway.domain.errors import Conflict, NotFound
from gateway.domain.lifecycle import CardEventType, LifecycleError
from gateway.models import Card, CardEvent, CardRequest, HeldEvent, Order
from gateway.models.cards import HeldStatus, OrderStatus, RequestStatus
from gateway.models.exchange import ExchangeFile
from gateway.partners.bank import ID
from gateway.services import cards
from gateway.services.alerts import raise_alert
from gateway.services.cards import EventSource
from schemas.reader import Header, Record

PARTNER = ID
E = CardEventType


# ------------------------------------------------------------------ inbound events


@dataclass(frozen=True)
class Outcome:
    status: str  # applied | duplicate | held | refused (release only)
    code: str | None = None
    reason: str | None = None


def _locate(session: Session, ev: BankEvent) -> tuple[Card | None, tuple[str, str] | None]:
    """The card an event is about, or why it cannot be found (held for an operator)."""
    if ev.file_type == CARDRESULT:
        order = session.scalar(select(Order).where(Order.order_id == ev.order_id))
        if order is None or order.card is None:
            return None, ("UNKNOWN_ORDER", f"order {ev.order_id} is unknown to SVA")
        card = order.card
        if order.volunteer.volunteer_no != ev.volunteer_no:
            return card, ("VOLUNTEER_MISMATCH", f"order {ev.order_id} belongs to another volunteer_no")
        if ev.card_id and card.card_id and ev.card_id != card.card_id:
            return card, ("CARD_ID_MISMATCH", f"order {ev.order_id} already made card {card.card_id}")
        if ev.card_id and card.card_id is None:
            other = cards.card_by_token(session, ev.card_id)
            if other is not None and other.id != card.id:
                return card, ("CARD_ID_IN_USE", f"card_id {ev.card_id} already belongs to another card")
        return card, None
    card = cards.card_by_token(session, ev.card_id or "")
    if card is None:
        return None, ("UNKNOWN_CARD", f"card {ev.card_id} is unknown to SVA")
    if card.volunteer.volunteer_no != ev.volunteer_no:
        return card, ("VOLUNTEER_MISMATCH", f"card {ev.card_id} belongs to another volunteer_no")
    new_id = ev.fields.get("new_card_id")
    if ev.event is E.REISSUED and new_id and cards.card_by_token(session, new_id) is not None:
        return card, ("CARD_ID_IN_USE", f"new_card_id {new_id} already belongs to a card")
    return card, None


def _recorded_result(session: Session, card: Card, ev: BankEvent) -> CardEvent | None:
    """The bank's own result (order_id, result) already recorded for the card."""
    names = [E.REJECTED, E.ORDER_CANCELLED] if ev.result == "REJECTED" else [ev.event]
    return session.scalar(
        select(CardEvent)
        .where(CardEvent.card_pk == card.id, CardEvent.event.in_(names), CardEvent.inferred.is_(False))
        .order_by(CardEvent.id)
        .limit(1)
    )


def _first_held(
    session: Session, card: Card | None, tokens: set[str], below: int | None = None
) -> HeldEvent | None:
    """The card's earliest event still held (before ``below``): later ones wait behind it."""
    conds = []
    if card is not None:
        conds.append(HeldEvent.card_pk == card.id)
    if tokens:
        conds.append(HeldEvent.card_id.in_(sorted(tokens)))
    if not conds:
        return None
    query = select(HeldEvent).where(HeldEvent.status == HeldStatus.HELD, or_(*conds))
    if below is not None:
        query = query.where(HeldEvent.id < below)
    return session.scalar(query.order_by(HeldEvent.id).limit(1))


def _tokens(card: Card | None, ev: BankEvent) -> set[str]:
    return {t for t in ((card.card_id if card else None), ev.card_id) if t}


def _attempt(
    session: Session, ev: BankEvent, source: EventSource, *, held: HeldEvent | None = None
) -> tuple[Outcome, Card | None]:
    """Apply one event if it makes sense now; otherwise say why (nothing changed)."""
    if ev.bank_event_id is not None:
        if session.scalar(select(CardEvent.id).where(CardEvent.bank_event_id == ev.bank_event_id)):
            return Outcome("duplicate"), None  # event_id seen: a resend changes nothing
        if held is None and _held_with_event_id(session, ev):
            return Outcome("duplicate"), None  # a resend of an event already held
    card, problem = _locate(session, ev)
    if problem is None and card is not None and ev.file_type == CARDRESULT:
        prior = _recorded_result(session, card, ev)
        if prior is not None:
            if prior.payload == ev.payload:
                return Outcome("duplicate"), card
            problem = ("RESEND_DIFFERS", f"{ev.result} for order {ev.order_id} resent with other fields")
    # A CARDSTATUS event waits behind any held event of its card, known or not yet known
    # to SVA (same card_id); a CARDRESULT only behind one tied to its card: a result that
    # arrives late (PRODUCED after an unknown card's COLLECTED) happened before it.
    tokens = _tokens(card, ev) if ev.file_type == CARDSTATUS else set()
    blocker = _first_held(session, card, tokens, below=held.id if held is not None else None)
    if blocker is not None:
        problem = ("HELD_BEHIND", f"held behind event #{blocker.id} of this card")
    if problem is None:
        try:
            applied = cards.apply_event(
                session,
                card,
                ev.event,
                event_time=ev.event_time,
                event_date=ev.event_date,
                source=source,
                payload=ev.payload,
                bank_event_id=ev.bank_event_id,
            )
        except LifecycleError as exc:
            problem = (exc.code, str(exc))
        else:
            _alert_notes(session, card, applied.notes)
    if problem is not None:
        return Outcome("refused", *problem), card
    return Outcome("applied"), card


#: Notes of apply_event that are the rule working as meant (no operator needed).
_EXPECTED_NOTES = ("NOT_REGISTERED", "RENEW_EXISTS")


def _alert_notes(session: Session, card: Card, notes: list[str]) -> None:
    """E.g. an EXPIRING that could not order its renewal (CREDIT_CUT_CLOSED): operators
    must see it."""
    for note in notes:
        if not note.startswith(_EXPECTED_NOTES):
            raise_alert(
                session, "card_event_note", PARTNER, f"card {card.card_id or card.id}: {note}",
                subject=f"note:{card.id}:{note.split(':')[0]}",
            )  # fmt: skip


def _held_with_event_id(session: Session, ev: BankEvent) -> bool:
    for h in session.scalars(
        select(HeldEvent).where(HeldEvent.card_id == ev.card_id, HeldEvent.event == ev.fields.get("event"))
    ):
        if h.payload.get("record", {}).get("event_id") == ev.bank_event_id:
            return True
    return False


def process_event(
    session: Session, ev: BankEvent, *, source_file: str | None, actor: str = PARTNER
) -> Outcome:
    """Apply one bank record, or hold it for an operator (held events are not record
    errors: the file's ACK still says ACCEPTED for them)."""
    source = EventSource(actor=actor, source_file=source_file, source_line=ev.line)
    outcome, card = _attempt(session, ev, source)
    if outcome.status != "refused":
        return outcome
    cards.hold_event(
        session,
        card=card,
        card_id=(card.card_id if card is not None else None) or ev.card_id,
        event=ev.result or str(ev.event),
        event_time=ev.event_time,
        source=source,
        payload=ev.to_json(),
        reason_code=outcome.code or "HELD",
        reason=outcome.reason or "",
    )
    return Outcome("held", outcome.code, outcome.reason)


class _EventFileHandler:
    file_type = ""

    def apply(self, session: Session, file: ExchangeFile, header: Header, records: Iterator[Record]) -> None:
        events = in_event_order(bank_event(self.file_type, r.data, r.line) for r in records)
        for ev in events:
            process_event(session, ev, source_file=file.name)


class CardResultHandler(_EventFileHandler):
    file_type = CARDRESULT


class CardStatusHandler(_EventFileHandler):
    file_type = CARDSTATUS


# ------------------------------------------------------------------ operators


def not_sent(session: Session) -> tuple[list[Order], list[CardRequest]]:
    """What waits for an operator on our side of the wire: orders our writer refused (still
    PENDING, with the reason) or the bank listed as record errors (RECORD_ERROR, waiting for
    a correction and ``resend-order``), and CARDREQ requests our writer refused."""
    orders = session.scalars(
        select(Order)
        .where(
            or_(
                Order.status == OrderStatus.RECORD_ERROR,
                (Order.status == OrderStatus.PENDING) & Order.record_error.is_not(None),
            )
        )
        .order_by(Order.id)
    ).all()
    requests = session.scalars(
        select(CardRequest)
        .where(CardRequest.status == RequestStatus.PENDING, CardRequest.outcome.like("not sent%"))
        .order_by(CardRequest.id)
    ).all()
    return list(orders), list(requests)


def held_events(session: Session, *, status: str = HeldStatus.HELD) -> list[HeldEvent]:
    return list(session.scalars(select(HeldEvent).where(HeldEvent.status == status).order_by(HeldEvent.id)))


def _held(session: Session, held_id: int) -> HeldEvent:
    held = session.get(HeldEvent, held_id)
    if held is None:
        raise NotFound("HELD_NOT_FOUND", "no such held event", "held_id")
    if held.status != HeldStatus.HELD:
        raise Conflict("NOT_HELD", f"event #{held_id} is already {held.status.lower()}")
    return held


def release(session: Session, held_id: int, *, actor: str, note: str) -> list[HeldEvent]:
    """Re-apply a held event (the operator fixed what it needed), then the events held
    behind it, in order, until one still does not fit (it stays held, with its reason).
    Raises ``Conflict`` with the reason when the event itself still does not fit (nothing
    changes). Returns the held events now released."""
    held = _held(session, held_id)
    ev = BankEvent.from_json(held.payload)
    card = session.get(Card, held.card_pk) if held.card_pk else None
    blocker = _first_held(session, card, {held.card_id} if held.card_id else set(), below=held.id)
    if blocker is not None:
        raise Conflict("HELD_BEHIND", f"release or discard event #{blocker.id} of this card first")
    source = EventSource(actor=actor, source_file=held.source_file, source_line=held.source_line)
    outcome, card = _attempt(session, ev, source, held=held)
    if outcome.status == "refused":
        raise Conflict(outcome.code or "HELD", f"event #{held_id} still does not fit: {outcome.reason}")
    cards.resolve_held(session, held, status=HeldStatus.RELEASED, actor=actor, note=note)
    return [held, *_drain(session, held, card, actor)]


def discard(session: Session, held_id: int, *, actor: str, note: str) -> list[HeldEvent]:
    """Drop a held event (never applied); the events held behind it are tried again.
    Returns the held events released as a consequence."""
    held = _held(session, held_id)
    if not note.strip():
        raise Conflict("NOTE_REQUIRED", "a discarded event needs an operator's note", "note")
    cards.resolve_held(session, held, status=HeldStatus.DISCARDED, actor=actor, note=note)
    card = session.get(Card, held.card_pk) if held.card_pk else None
    return _drain(session, held, card, actor)


def _drain(session: Session, resolved: HeldEvent, card: Card | None, actor: str) -> list[HeldEvent]:
    tokens = {t for t in (resolved.card_id, card.card_id if card else None) if t}
    released = []
    while True:
        nxt = _first_held(session, card, tokens)
        if nxt is None:
            return released
        ev = BankEvent.from_json(nxt.payload)
        source = EventSource(actor=actor, source_file=nxt.source_file, source_line=nxt.source_line)
        outcome, found = _attempt(session, ev, source, held=nxt)
        if outcome.status == "refused":
            # Now the card's first held event: it keeps the others behind it.
            nxt.reason_code, nxt.reason = (outcome.code or "HELD")[:32], (outcome.reason or "")[:200]
            if nxt.card_pk is None and found is not None:
                nxt.card_pk = found.id
            session.flush()
            return released
        cards.resolve_held(
            session, nxt, status=HeldStatus.RELEASED, actor=actor, note=f"after #{resolved.id}"
        )
        released.append(nxt)
        if card is None and found is not None:
            card = found
        if card is not None and card.card_id:
            tokens.add(card.card_id)
