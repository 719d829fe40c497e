"""BOCSZ file exchange (bank.md): the CARDORDER and CARDREQ builders, the CARDRESULT and
CARDSTATUS handlers, and the held-event queue operators work from.

The engine (``gateway.services.exchange``) does the generic work; this module decides
what goes in our files, what the bank's ACKs do to our orders and requests, and how the
bank's records become lifecycle events (through ``gateway.services.cards.apply_event``,
which owns the lifecycle rules and inferences). docs/exchanges.md maps each file to its
events; docs/decisions.md ("Bank and Shenzhen Tong exchanges") records the choices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters.bank.records import (
    CARDRESULT,
    CARDSTATUS,
    BankEvent,
    OrderLine,
    RequestLine,
    bank_event,
    cardorder_record,
    cardreq_record,
    in_event_order,
)
from gateway.domain.errors import Conflict, NotFound
from gateway.domain.lifecycle import CardEventType, LifecycleError
from gateway.models import Card, CardEvent, CardRequest, HeldEvent, Order
from gateway.models.cards import HeldStatus, OrderStatus, RequestStatus, RequestType
from gateway.models.exchange import ExchangeFile, OutboundItem
from gateway.partners.bank import ID
from gateway.services import cards
from gateway.services.alerts import raise_alert
from gateway.services.calendar import set_day0, working_calendar
from gateway.services.cards import EventSource
from gateway.services.channels import AckOutcome, Batch, Refusal
from gateway.timeutil import BEIJING, utcnow
from schemas.reader import Header, Record

PARTNER = ID
E = CardEventType


# ------------------------------------------------------------------ shared


def _first_of_day(session: Session, file_type: str, business_date: date) -> bool:
    """No file of this type yet for the date: records our writer refused earlier are tried
    again once a day (a same-day rerun must not send the same refusal in an empty SEQ)."""
    return (
        session.scalar(
            select(ExchangeFile.id)
            .where(
                ExchangeFile.partner == PARTNER,
                ExchangeFile.direction == "out",
                ExchangeFile.file_type == file_type,
                ExchangeFile.business_date == business_date,
            )
            .limit(1)
        )
        is None
    )


def _refs(session: Session, file: ExchangeFile, kind: str) -> list[str]:
    return list(
        session.scalars(
            select(OutboundItem.ref)
            .where(OutboundItem.file_id == file.id, OutboundItem.kind == kind)
            .order_by(OutboundItem.line)
        )
    )


def _upload_day(file: ExchangeFile) -> date:
    """Day 0: the Beijing date of the upload of the file the bank acknowledged."""
    return (file.sent_at or file.created_at).astimezone(BEIJING).date()


def _whole_file_rejected(outcome: AckOutcome) -> bool:
    # E06 means the bank already has the file: nothing to send again.
    return outcome.status == "REJECTED" and outcome.code != "E06"


def _withdraw_cancelled(session: Session, order: Order, why: str) -> bool:
    """An order the bank never received (its file rejected whole, or a record error) whose
    cancellation is still waiting to be sent is simply withdrawn (bank.md CARDREQ)."""
    req = session.scalar(
        select(CardRequest).where(
            CardRequest.order_pk == order.id,
            CardRequest.request_type == RequestType.CANCEL_ORDER,
            CardRequest.status == RequestStatus.PENDING,
        )
    )
    if req is None or order.card is None:
        return False
    now = utcnow()
    req.status, req.outcome, req.closed_at = RequestStatus.WITHDRAWN, f"order withdrawn: {why}"[:100], now
    cards.apply_event(
        session,
        order.card,
        E.ORDER_WITHDRAWN,
        event_time=now,
        source=EventSource(actor="system"),
        payload={"reason": f"cancel requested; {why}"[:100]},
    )
    return True


# ------------------------------------------------------------------ CARDORDER


def order_line(order: Order) -> OrderLine:
    """The CARDORDER record's data from the order and its volunteer (PII decrypted here,
    in memory, only to be written into the sealed file)."""
    v = order.volunteer
    replaces = order.card.replaces if order.card is not None else None
    return OrderLine(
        order_id=order.order_id,
        order_type=order.order_type,
        volunteer_no=v.volunteer_no or "",
        name=v.name,
        id_type=v.id_type,
        id_number=v.id_number,
        gender=v.gender,
        birth_date=v.birth_date,
        mobile=v.mobile,
        address=v.address,
        emergency_name=v.emergency_name,
        emergency_mobile=v.emergency_mobile,
        carrier=order.carrier,
        branch_code=order.branch_code,
        replaces_card_id=replaces.card_id if replaces is not None else None,
    )


class CardOrderBuilder:
    file_type = "CARDORDER"
    ext = "zip"

    def due_on(self, session: Session, business_date: date) -> bool:
        return working_calendar(session).is_working(business_date)

    def collect(self, session: Session, business_date: date) -> Batch:
        batch = Batch()
        if not self.due_on(session, business_date):
            return batch  # CARDORDER goes on working days only, even with orders pending
        retry_refused = _first_of_day(session, self.file_type, business_date)
        for order in session.scalars(
            select(Order).where(Order.status == OrderStatus.PENDING).order_by(Order.id)
        ):
            if order.record_error and not retry_refused:
                continue
            batch.records.append(cardorder_record(order_line(order)))
            batch.refs.append(("order", order.order_id))
            if order.volunteer.photo:
                batch.photos[order.order_id] = order.volunteer.photo
        return batch

    def mark_in_file(
        self, session: Session, file: ExchangeFile, written: list[tuple[str, str]], refused: list[Refusal]
    ) -> None:
        by_id = _orders(session, [ref for _, ref in written] + [r.ref for r in refused])
        now = utcnow()
        for _, ref in written:
            o = by_id[ref]
            o.status, o.sent_file, o.sent_at, o.record_error = OrderStatus.SENT, file.name, now, None
        for r in refused:
            # Stays PENDING, refusal visible to operators; tried again in tomorrow's file.
            by_id[r.ref].record_error = f"{file.business_date:%Y%m%d} not sent: {r.field}: {r.reason}"[:200]

    def on_ack(self, session: Session, file: ExchangeFile, outcome: AckOutcome) -> None:
        day0 = _upload_day(file)
        cal = working_calendar(session)
        for o in _orders(session, _refs(session, file, "order")).values():
            if o.sent_file != file.name:
                continue  # sent again in a later file since: that file's ACK decides
            if outcome.status == "REJECTED":
                if _whole_file_rejected(outcome) and o.status == OrderStatus.SENT:
                    o.status = OrderStatus.PENDING  # same id, next SEQ
                    _withdraw_cancelled(session, o, f"{file.name} rejected whole")
                continue
            errors = outcome.errors_by_ref.get(("order", o.order_id))
            if errors:
                # A record error closes the order as rejected: no business answer will
                # come and no deadline runs; it waits for a corrected resend (same id) or
                # an operator's withdrawal.
                if o.status in (OrderStatus.SENT, OrderStatus.PENDING):
                    o.status, o.record_error = OrderStatus.RECORD_ERROR, ";".join(errors)[:200]
                    _withdraw_cancelled(session, o, "record error at the bank")
                continue
            set_day0(session, o, day0, cal)


def _orders(session: Session, order_ids: list[str]) -> dict[str, Order]:
    if not order_ids:
        return {}
    return {o.order_id: o for o in session.scalars(select(Order).where(Order.order_id.in_(order_ids)))}


def resend_order(session: Session, order_id: str, *, actor: str) -> Order:
    """An operator corrected an order listed as a record error (or refused by our writer):
    it goes again, with the same id, in the next CARDORDER."""
    order = cards.order_by_id(session, order_id)
    if order.status not in (OrderStatus.RECORD_ERROR, OrderStatus.PENDING):
        raise Conflict(
            "ORDER_NOT_CORRECTABLE", "only an order with a record error can be sent again", "order_id"
        )
    order.status, order.record_error = OrderStatus.PENDING, None
    session.flush()
    return order


# ------------------------------------------------------------------ CARDREQ


class CardReqBuilder:
    file_type = "CARDREQ"
    ext = "txt"

    def due_on(self, session: Session, business_date: date) -> bool:
        return True  # every day, empty when nothing is pending

    def collect(self, session: Session, business_date: date) -> Batch:
        retry_refused = _first_of_day(session, self.file_type, business_date)
        batch = Batch()
        for req in session.scalars(
            select(CardRequest).where(CardRequest.status == RequestStatus.PENDING).order_by(CardRequest.id)
        ):
            if req.outcome and req.outcome.startswith("not sent") and not retry_refused:
                continue
            if req.request_type == RequestType.CANCEL_ORDER:
                order = req.order
                if order is None or order.status == OrderStatus.CLOSED:
                    req.status, req.closed_at = RequestStatus.WITHDRAWN, utcnow()
                    req.outcome = "order already closed before sending"
                    continue
                if order.status in (OrderStatus.PENDING, OrderStatus.RECORD_ERROR):
                    _withdraw_cancelled(session, order, "the bank never received it")
                    continue
                if order.day0 is None:
                    continue  # sent only for an order in a file the bank acknowledged
            line = RequestLine(
                request_id=req.request_id,
                request_type=req.request_type,
                volunteer_no=req.volunteer.volunteer_no or "",
                request_time=req.request_time,
                reason=req.reason or "",
                card_id=req.card.card_id if req.card is not None else None,
                order_id=req.order.order_id if req.order is not None else None,
            )
            batch.records.append(cardreq_record(line))
            batch.refs.append(("card_request", req.request_id))
        return batch

    def mark_in_file(
        self, session: Session, file: ExchangeFile, written: list[tuple[str, str]], refused: list[Refusal]
    ) -> None:
        by_id = _requests(session, [ref for _, ref in written] + [r.ref for r in refused])
        now = utcnow()
        for _, ref in written:
            r = by_id[ref]
            r.status, r.sent_file, r.sent_at, r.outcome = RequestStatus.SENT, file.name, now, None
        for refusal in refused:
            by_id[
                refusal.ref
            ].outcome = f"not sent {file.business_date:%Y%m%d}: {refusal.field}: {refusal.reason}"[:100]

    def on_ack(self, session: Session, file: ExchangeFile, outcome: AckOutcome) -> None:
        for r in _requests(session, _refs(session, file, "card_request")).values():
            if r.sent_file != file.name or r.status != RequestStatus.SENT:
                continue
            if outcome.status == "REJECTED":
                if _whole_file_rejected(outcome):
                    r.status = RequestStatus.PENDING
                continue
            errors = outcome.errors_by_ref.get(("card_request", r.request_id))
            if errors:
                r.status, r.closed_at = RequestStatus.CLOSED, utcnow()
                r.outcome = ("rejected: " + ";".join(errors))[:100]
                if r.request_type == RequestType.LOSS_REPORT and r.card is not None:
                    _loss_report_rejected(session, r)
                elif r.request_type == RequestType.CANCEL_ORDER:
                    _cancel_rejected(session, r)


def _cancel_rejected(session: Session, req: CardRequest) -> None:
    """The bank never had the cancellation and goes on making the card: an operator must
    correct it and cancel again, or close the card once it comes."""
    order_id = req.order.order_id if req.order is not None else "-"
    raise_alert(
        session, "cancel_order_rejected", PARTNER,
        f"CANCEL_ORDER {req.request_id} for order {order_id} was a record error at the bank: "
        "the order goes on; correct and cancel it again",
        subject=req.request_id,
    )  # fmt: skip


def _loss_report_rejected(session: Session, req: CardRequest) -> None:
    """The bank never froze the card: stop showing it as "loss requested" and get an
    operator to tell the volunteer (bank.md: the immediate freeze is the 95566 call)."""
    req.card.loss_requested_at = None
    raise_alert(
        session, "loss_report_rejected", PARTNER,
        f"LOSS_REPORT {req.request_id} (card {req.card.card_id}, volunteer "
        f"{req.volunteer.volunteer_no}) was a record error at the bank: the card is NOT frozen. "
        "Ask the volunteer to call 95566; correct and report the loss again",
        subject=req.request_id,
    )  # fmt: skip


def _requests(session: Session, request_ids: list[str]) -> dict[str, CardRequest]:
    if not request_ids:
        return {}
    return {
        r.request_id: r
        for r in session.scalars(select(CardRequest).where(CardRequest.request_id.in_(request_ids)))
    }


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
