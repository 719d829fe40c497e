"""Every file that crosses to or from a partner, and what became of it.

Exactly-once is decided by constraints, not by timing:

- ``exchange_files.identity`` is unique: for an outbound file ``out|PARTNER|TYPE|DATE|SEQ``,
  so two workers cannot both create (and send) the same file; for an inbound original
  ``in|PARTNER|TYPE|SENDER|DATE|SEQ``, so a second delivery of the same header is a
  duplicate (partners/README.md, "Transport, SFTP").
- ``exchange_files.content_key`` is unique for inbound originals (``PARTNER|sha256``): the
  same bytes under another name are a duplicate.
- ``file_applications.file_id`` is a primary key inserted in the very transaction that
  applies a file: a second, concurrent application fails on it and rolls back whole.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.models.base import Base
from gateway.models.columns import UtcDateTime, utcnow

# Outbound: prepared -> sent -> accepted | partial | rejected (by the partner's ACK).
# Inbound: received -> processed | partial | rejected | duplicate | held.
OUT_STATUSES = ("prepared", "sent", "accepted", "partial", "rejected")
IN_STATUSES = ("received", "processed", "partial", "rejected", "duplicate", "held")


class ExchangeFile(Base):
    __tablename__ = "exchange_files"
    __table_args__ = (
        UniqueConstraint("partner", "direction", "name"),
        Index("ix_exchange_files_status", "partner", "direction", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    file_type: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    sender: Mapped[str | None] = mapped_column(String(8))
    receiver: Mapped[str | None] = mapped_column(String(8))
    business_date: Mapped[date | None] = mapped_column(Date)
    seq: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    identity: Mapped[str | None] = mapped_column(String(120), unique=True)
    content_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    record_count: Mapped[int | None] = mapped_column(Integer)
    # inbound: what our ACK says about it; outbound: what the partner's ACK said
    ack_status: Mapped[str | None] = mapped_column(String(10))
    ack_code: Mapped[str | None] = mapped_column(String(3))
    ack_text: Mapped[str | None] = mapped_column(Text)
    ack_file_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_files.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_files.id"))
    raw_path: Mapped[str | None] = mapped_column(String(500))
    plain_path: Mapped[str | None] = mapped_column(String(500))
    detail: Mapped[str | None] = mapped_column(Text)  # why held / rejected, for operators
    comment: Mapped[str | None] = mapped_column(Text)  # operator's comment on a replay
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    record_errors: Mapped[list[RecordErrorRow]] = relationship(
        back_populates="file", order_by="RecordErrorRow.line", cascade="all, delete-orphan"
    )


class RecordErrorRow(Base):
    """A record error of a file: ours on an inbound file, the partner's (from its ACK) on
    an outbound one. ``line:<n>:<field>:<reason>`` as partners/README.md writes it."""

    __tablename__ = "exchange_record_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("exchange_files.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(200))

    file: Mapped[ExchangeFile] = relationship(back_populates="record_errors")

    def render(self) -> str:
        return f"line:{self.line}:{self.field}:{self.reason}"


class FileApplication(Base):
    """The exactly-once gate: one row per applied inbound file, inserted in the same
    transaction as its effects."""

    __tablename__ = "file_applications"

    file_id: Mapped[int] = mapped_column(ForeignKey("exchange_files.id"), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    worker: Mapped[str | None] = mapped_column(String(120))


class OutboundItem(Base):
    """Which of our records went out on which line of which file, so that a partner's
    PARTIAL ACK (``line:<n>``) closes the right order or request."""

    __tablename__ = "outbound_items"
    __table_args__ = (UniqueConstraint("file_id", "line"), Index("ix_outbound_items_ref", "kind", "ref"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("exchange_files.id"))
    line: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # order | card_request | transit_request | donation
    ref: Mapped[str] = mapped_column(String(40))  # the record's own id (order_id, request_id, ...)


class Alert(Base):
    """Something an operator must see now: a host-key or authentication failure, a file
    missing past its deadline, a held file, a security fault of a SOAP partner."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    partner: Mapped[str | None] = mapped_column(String(8))
    subject: Mapped[str | None] = mapped_column(String(200))  # dedup key, e.g. expected file name
    message: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
