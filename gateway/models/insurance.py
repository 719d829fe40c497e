"""BOC Insurance claims as the insurer states them, with SVA's cover check (insurer.md).

The insurer's figures are stored exactly as answered and never changed; ``covered``,
``allowed_fen``, ``flags`` and ``notes`` are SVA's verdict (``gateway.domain.cover``),
recomputed whenever a claim of the volunteer changes. The roster upload is an
``exchange_files`` row (partner BOCINS, type INSROSTER), like every other file.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models.base import Base
from gateway.models.columns import UtcDateTime, utcnow


class InsuranceClaim(Base):
    __tablename__ = "insurance_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_no: Mapped[str] = mapped_column(String(32), unique=True)
    volunteer_no: Mapped[str] = mapped_column(String(10), index=True)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    incident_time: Mapped[datetime] = mapped_column(UtcDateTime)
    category: Mapped[str] = mapped_column(String(12))
    disability_grade: Mapped[int | None] = mapped_column(Integer)
    claimed_fen: Mapped[int] = mapped_column(BigInteger)
    approved_fen: Mapped[int | None] = mapped_column(BigInteger)
    paid_fen: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    status_time: Mapped[datetime] = mapped_column(UtcDateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    # SVA's verdict
    year: Mapped[int | None] = mapped_column(Integer)  # Beijing year of the incident
    covered: Mapped[bool | None] = mapped_column(Boolean)
    allowed_fen: Mapped[int | None] = mapped_column(BigInteger)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{code, reason}]
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ClaimSweep(Base):
    """One daily sweep of changed claims; the next sweep asks from this one's run date."""

    __tablename__ = "insurance_claim_sweeps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_date: Mapped[date] = mapped_column(Date)  # Beijing date the sweep ran
    from_date: Mapped[date | None] = mapped_column(Date)  # None: the first, full sweep
    status: Mapped[str] = mapped_column(String(8))  # running | ok | failed
    claims_seen: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
