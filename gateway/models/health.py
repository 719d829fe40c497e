"""The Health Commission queue (health.md): one row per EnrollCard / SuspendCard request.

``request_id`` is unique for ever and stable across retries: every attempt of a row sends
the same id, so SZHC applies it once (it answers a repeated id with its first answer).
The state of the health-card function itself lives in ``card_functions`` (function
HEALTH); ``gateway.partners.health.service`` keeps the two in step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.models.base import Base
from gateway.models.cards import Card
from gateway.models.columns import UtcDateTime, utcnow


class HealthAction:
    ENROL = "ENROL"
    SUSPEND = "SUSPEND"


class HealthStatus:
    PENDING = "PENDING"  # to be sent (again) at next_attempt_at; attempts > 0 = in flight
    DONE = "DONE"  # OK, or FAILED/H02 (already active on this card: success)
    FAILED = "FAILED"  # FAILED H01/H03/H99: closed, an operator decides
    CLIENT_FAULT = "CLIENT_FAULT"  # SZHC said the request was wrong: never retried
    ERROR = "ERROR"  # the answer was unsafe or not the agreed SOAP: outcome unknown
    CANCELLED = "CANCELLED"  # no longer wanted before it ever reached SZHC
    NEEDS_OPERATOR = frozenset({"FAILED", "CLIENT_FAULT", "ERROR"})


class HealthRequest(Base):
    __tablename__ = "health_requests"
    __table_args__ = (
        Index("ix_health_requests_status_next", "status", "next_attempt_at"),
        # At most one open request per volunteer (SZHC holds one health card per person):
        # two workers planning at once cannot both queue one.
        Index(
            "uq_health_requests_one_open",
            "volunteer_id",
            unique=True,
            sqlite_where=text("status = 'PENDING'"),
            postgresql_where=text("status = 'PENDING'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(32), unique=True)  # 1-32 of A-Za-z0-9-
    action: Mapped[str] = mapped_column(String(7))
    card_pk: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    card_id: Mapped[str] = mapped_column(String(16))  # the bank's token, as sent (cardId)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    volunteer_no: Mapped[str] = mapped_column(String(10))
    # ENROL: why (COLLECTED, OPT_IN, REPLACEMENT, OPERATOR); SUSPEND: the reason sent.
    reason: Mapped[str] = mapped_column(String(16))
    # SUSPEND: the number sent; ENROL: the number SZHC answered.
    health_card_no: Mapped[str | None] = mapped_column(String(18))
    status: Mapped[str] = mapped_column(String(12), default=HealthStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))  # why it is still pending / failed
    result: Mapped[str | None] = mapped_column(String(6))  # OK | FAILED
    reason_code: Mapped[str | None] = mapped_column(String(3))  # H01 | H02 | H03 | H99
    retried_as: Mapped[str | None] = mapped_column(String(32))  # an operator raised it again
    note: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    first_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    card: Mapped[Card] = relationship()
