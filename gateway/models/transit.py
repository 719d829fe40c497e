"""Shenzhen Tong requests (transit.md): one row per TRANSITREQ record we ever raised.

``request_id`` is unique for ever; a request is never sent twice (a file the partner
rejected whole was never received, so its requests go again with the same id). The
state of the transit function itself lives in ``card_functions`` (function TRANSIT);
``gateway.services.transit`` keeps the two in step.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.models.base import Base
from gateway.models.cards import Card
from gateway.models.columns import UtcDateTime, utcnow


class TransitAction:
    ENABLE = "ENABLE"
    DISABLE = "DISABLE"


class TransitStatus:
    PENDING = "PENDING"  # goes in the next TRANSITREQ
    SENT = "SENT"  # in an uploaded file, no answer yet (chased by operators, never repeated)
    ANSWERED = "ANSWERED"  # OK, or FAILED T02 (already in that state: counts as success)
    FAILED = "FAILED"  # FAILED T01/T03/T99: closed, shown to an operator
    REJECTED = "REJECTED"  # a record error in SZT's PARTIAL ACK: closed, shown to an operator
    CANCELLED = "CANCELLED"  # cancelled out by an opposite request before either was sent
    OPEN = frozenset({"PENDING", "SENT"})
    NEEDS_OPERATOR = frozenset({"FAILED", "REJECTED"})


class TransitRequest(Base):
    __tablename__ = "transit_requests"
    __table_args__ = (Index("ix_transit_requests_card_status", "card_pk", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(20), unique=True)
    action: Mapped[str] = mapped_column(String(7))
    card_pk: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    card_id: Mapped[str] = mapped_column(String(16))  # the bank's token, as sent
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    volunteer_no: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=TransitStatus.PENDING, index=True)
    cause: Mapped[str] = mapped_column(String(40))  # e.g. COLLECTED, OPT_OUT, CARD_DEAD, OPERATOR
    effective_date: Mapped[date | None] = mapped_column(Date)  # set when written to a file
    result: Mapped[str | None] = mapped_column(String(6))  # OK | FAILED
    reason_code: Mapped[str | None] = mapped_column(String(3))
    transit_account_no: Mapped[str | None] = mapped_column(String(12))
    processed_date: Mapped[date | None] = mapped_column(Date)
    sent_file: Mapped[str | None] = mapped_column(String(80))
    answer_file: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(String(300))  # refusal, record error, operator note
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    card: Mapped[Card] = relationship()
