"""BOCSZ's outbound files (bank.md): the CARDORDER and CARDREQ builders, and what the
bank's ACKs of them do to our orders and requests. The bank's CARDRESULT and CARDSTATUS,
and the held-event queue, are in ``gateway.partners.bank.events``.

The engine (``gateway.services.exchange``) does the generic work; this module decides
what goes in our files. docs/exchanges.md maps each file to its events;
docs/decisions.md ("Bank and Shenzhen Tong exchanges") records the choices.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.bank.records import (
    OrderLine,
    RequestLine,
    cardorder_record,
    cardreq_record,
)
from gateway.domain.errors import Conflict
from gateway.domain.lifecycle import CardEventType
from gateway.models import CardRequest, Order
from gateway.models.cards import OrderStatus, RequestStatus, RequestType
from gateway.models.exchange import ExchangeFile
from gateway.partners.bank import ID
from gateway.services import cards, channels
from gateway.services.alerts import raise_alert
from gateway.services.calendar import set_day0, working_calendar
from gateway.services.cards import EventSource
from gateway.services.channels import AckOutcome, Batch, Refusal
from gateway.timeutil import BEIJING, utcnow

PARTNER = ID
E = CardEventType


# ------------------------------------------------------------------ shared


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
        retry_refused = channels.first_file_of_day(session, PARTNER, self.file_type, business_date)
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
        sent, refusals = channels.rows_in_file(session, _orders, written, refused)
        now = utcnow()
        for o in sent:
            o.status, o.sent_file, o.sent_at, o.record_error = OrderStatus.SENT, file.name, now, None
        for o, r in refusals:
            # Stays PENDING, refusal visible to operators; tried again in tomorrow's file.
            o.record_error = f"{file.business_date:%Y%m%d} not sent: {r.field}: {r.reason}"[:200]

    def on_ack(self, session: Session, file: ExchangeFile, outcome: AckOutcome) -> None:
        day0 = _upload_day(file)
        cal = working_calendar(session)
        for o in _orders(session, channels.refs_in_file(session, file, "order")).values():
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
        retry_refused = channels.first_file_of_day(session, PARTNER, self.file_type, business_date)
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
        sent, refusals = channels.rows_in_file(session, _requests, written, refused)
        now = utcnow()
        for r in sent:
            r.status, r.sent_file, r.sent_at, r.outcome = RequestStatus.SENT, file.name, now, None
        for r, refusal in refusals:
            r.outcome = f"not sent {file.business_date:%Y%m%d}: {refusal.field}: {refusal.reason}"[:100]

    def on_ack(self, session: Session, file: ExchangeFile, outcome: AckOutcome) -> None:
        for r in _requests(session, channels.refs_in_file(session, file, "card_request")).values():
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
