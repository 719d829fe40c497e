"""The API's own tables: bearer tokens (hashes only), the append-only audit log of
unmasked PII reads, and idempotency records of POST answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models.base import Base
from gateway.models.columns import UtcDateTime, utcnow

ROLES = ("platform", "operator", "auditor", "admin")


class ApiToken(Base):
    """A bearer token. Only the SHA-256 of the token is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("role IN ('platform', 'operator', 'auditor', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class VolunteerViewToken(Base):
    """A short-lived bearer token bound to one volunteer: the platform asks for it when a
    volunteer signs in to look up their own records (信息查询), and it reads only theirs.
    Only its SHA-256 is stored; ``issued_by`` is the platform's own token (every read
    through it is written to the audit log under that token)."""

    __tablename__ = "api_volunteer_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    issued_by: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the rate limit: requests in the current one-minute window (shared by every process)
    window_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    window_count: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """One read that showed PII in clear: who, what, when, why. Rows are never updated or
    deleted (the migration installs triggers refusing both)."""

    __tablename__ = "api_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    token_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(1000))
    fields_revealed: Mapped[str] = mapped_column(Text)  # comma-separated field names
    subjects: Mapped[str] = mapped_column(Text)  # comma-separated volunteer numbers
    reason: Mapped[str] = mapped_column(String(200))


class IdempotencyRecord(Base):
    """The first answer to a POST with an Idempotency-Key, per token."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    key: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path, body
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(1000))
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # indexed for the retention job's purge (gateway.services.retention)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
