"""Card orders, cards (one record per physical card), their immutable events, events held
for an operator, per-function state and the requests the platform raises to the bank.

State values come from ``gateway.domain.lifecycle`` and ``gateway.domain.functions``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.domain.functions import FunctionState
from gateway.domain.lifecycle import CardState
from gateway.models.base import Base
from gateway.models.columns import UtcDateTime, utcnow
from gateway.models.volunteers import Volunteer


class OrderStatus:
    """Where an order is on the wire. The card's state says what the bank answered."""

    PENDING = "PENDING"  # due to be ordered: the bank adapter puts it in the next CARDORDER
    SENT = "SENT"  # in an uploaded file, ACK not yet received
    ACKED = "ACKED"  # the file was ACKed ACCEPTED/PARTIAL and the record was fine: day 0 set
    RECORD_ERROR = "RECORD_ERROR"  # listed in a PARTIAL ACK: waits for an operator's correction
    CLOSED = "CLOSED"  # finished: NOTIFIED, REJECTED, cancelled, withdrawn or closed by an operator
    OPEN = frozenset({"PENDING", "SENT", "ACKED", "RECORD_ERROR"})


class OrderType:
    NEW = "NEW"
    RENEW = "RENEW"


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(20), unique=True)  # A-Z0-9, unique for ever
    order_type: Mapped[str] = mapped_column(String(5))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(6))
    branch_code: Mapped[str] = mapped_column(ForeignKey("branches.code"))
    status: Mapped[str] = mapped_column(String(12), default=OrderStatus.PENDING, index=True)
    # Why an operator placed it, e.g. a NEW DEBIT after a CREDIT card was cut and closed.
    reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_file: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Service levels (bank.md): day 0 = Beijing date of the first upload ACKed ACCEPTED/PARTIAL.
    day0: Mapped[date | None] = mapped_column(Date, index=True)
    produced_due: Mapped[date | None] = mapped_column(Date)
    notified_due: Mapped[date | None] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # The bank's result dates (event_date), for the service-level report.
    accepted_on: Mapped[date | None] = mapped_column(Date)
    produced_on: Mapped[date | None] = mapped_column(Date)
    notified_on: Mapped[date | None] = mapped_column(Date)
    reject_code: Mapped[str | None] = mapped_column(String(3))
    reject_text: Mapped[str | None] = mapped_column(String(100))
    record_error: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    volunteer: Mapped[Volunteer] = relationship()
    # The card this order makes. For RENEW, ``card.replaces`` is the card being renewed
    # (its bank card_id goes in CARDORDER's replaces_card_id).
    card: Mapped[Card | None] = relationship(back_populates="order", uselist=False)


class Card(Base):
    """One physical card (or the card an order will make)."""

    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    order_pk: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    card_id: Mapped[str | None] = mapped_column(String(16), unique=True)  # bank token
    masked_pan: Mapped[str | None] = mapped_column(String(16))
    expiry: Mapped[str | None] = mapped_column(String(6))  # YYYYMM
    carrier: Mapped[str] = mapped_column(String(6))
    branch_code: Mapped[str] = mapped_column(ForeignKey("branches.code"))
    state: Mapped[str] = mapped_column(String(16), default=CardState.ORDERED, index=True)
    replaces_pk: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    replaced_by_pk: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    # "loss requested" marker: set when a LOSS_REPORT is raised, until LOST_REPORTED arrives.
    loss_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notified_on: Mapped[date | None] = mapped_column(Date)  # NOTIFIED event_date or REISSUED date
    notified_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    pickup_deadline: Mapped[date | None] = mapped_column(Date, index=True)
    collected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    order: Mapped[Order | None] = relationship(back_populates="card", foreign_keys=[order_pk])
    replaces: Mapped[Card | None] = relationship(foreign_keys=[replaces_pk], remote_side=[id])
    replaced_by: Mapped[Card | None] = relationship(foreign_keys=[replaced_by_pk], remote_side=[id])
    events: Mapped[list[CardEvent]] = relationship(back_populates="card", order_by="CardEvent.id")
    functions: Mapped[list[CardFunction]] = relationship(back_populates="card", order_by="CardFunction.id")

    def __repr__(self) -> str:
        return f"<Card {self.id} {self.card_id or '-'} {self.state}>"


class CardEvent(Base):
    """Append-only: what happened to a card, when, from which file line or API request, by
    whom. Rows are never updated or deleted (enforced below); a bank result completing an
    inferred event is a new row pointing at it (``completes_pk``)."""

    __tablename__ = "card_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_pk: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    event: Mapped[str] = mapped_column(String(20))
    event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    event_date: Mapped[date] = mapped_column(Date)  # Beijing date of event_time (or the bank's event_date)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    source_file: Mapped[str | None] = mapped_column(String(80))
    source_line: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    completes_pk: Mapped[int | None] = mapped_column(ForeignKey("card_events.id"))
    # CARDSTATUS event_id: a resend of a known id changes nothing.
    bank_event_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    card: Mapped[Card] = relationship(back_populates="events")


@event.listens_for(CardEvent, "before_update")
@event.listens_for(CardEvent, "before_delete")
def _card_events_are_immutable(mapper, connection, target) -> None:  # noqa: ARG001
    raise RuntimeError("card_events is append-only")


class HeldStatus:
    HELD = "HELD"
    RELEASED = "RELEASED"
    DISCARDED = "DISCARDED"


class HeldEvent(Base):
    """A bank event that made no sense for the card as SVA knows it: held for an operator;
    every later event for the card is held behind it (bank.md "Order across files")."""

    __tablename__ = "held_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_pk: Mapped[int | None] = mapped_column(ForeignKey("cards.id"), index=True)
    card_id: Mapped[str | None] = mapped_column(String(16), index=True)  # as the bank sent it
    event: Mapped[str] = mapped_column(String(20))
    event_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    source_file: Mapped[str | None] = mapped_column(String(80))
    source_line: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason_code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=HeldStatus.HELD, index=True)
    held_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))


class CardFunction(Base):
    """State of one function (transit, health, insurance, donation) on one card."""

    __tablename__ = "card_functions"
    __table_args__ = (UniqueConstraint("card_pk", "function"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_pk: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    function: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(8), default=FunctionState.OFF, index=True)
    reason: Mapped[str | None] = mapped_column(String(16))  # why it went off (OffReason)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The partner's reference once on: transit account number, health card number.
    partner_ref: Mapped[str | None] = mapped_column(String(32))

    card: Mapped[Card] = relationship(back_populates="functions")

    def set_state(self, state: str, reason: str | None = None) -> None:
        """The one place a function's state changes: ``changed_at`` moves only on a change."""
        if self.state != state:
            self.state, self.reason, self.changed_at = state, reason, utcnow()


class RequestType:
    LOSS_REPORT = "LOSS_REPORT"
    CANCEL_ORDER = "CANCEL_ORDER"


class RequestStatus:
    PENDING = "PENDING"  # the bank adapter puts it in the next CARDREQ
    SENT = "SENT"
    CLOSED = "CLOSED"  # answered (LOST_REPORTED or a death; R07)
    TOO_LATE = "TOO_LATE"  # CANCEL_ORDER answered by PRODUCED/NOTIFIED
    WITHDRAWN = "WITHDRAWN"  # no longer needed before it was sent (e.g. the order was a record error)
    OPEN = frozenset({"PENDING", "SENT"})


class CardRequest(Base):
    """A CARDREQ request raised on the platform (bank.md CARDREQ)."""

    __tablename__ = "card_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(20), unique=True)
    request_type: Mapped[str] = mapped_column(String(12))
    card_pk: Mapped[int | None] = mapped_column(ForeignKey("cards.id"), index=True)
    order_pk: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    request_time: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(10), default=RequestStatus.PENDING, index=True)
    actor: Mapped[str] = mapped_column(String(64), default="system")
    sent_file: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(100))

    card: Mapped[Card | None] = relationship()
    order: Mapped[Order | None] = relationship()
    volunteer: Mapped[Volunteer] = relationship()
