"""Donations: the bank's SWIPE records, per-day totals, the fund's receipts, periods.

Bulk tables carry no foreign keys on purpose: a SWIPE file inserts up to two million rows
in one statement, and a foreign-key check per row would double the cost while the file
row they name (``exchange_files.id``) is written in the same transaction anyway.
Storage for a year (about 400 million ``swipes`` rows) is discussed in docs/donations.md.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models.base import Base
from gateway.models.columns import UtcDateTime


class Swipe(Base):
    """One bank transaction, stored once for ever (``txn_id``), with SVA's figure."""

    __tablename__ = "swipes"

    txn_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    file_id: Mapped[int] = mapped_column(Integer)
    line: Mapped[int] = mapped_column(Integer)
    card_id: Mapped[str] = mapped_column(String(16))
    volunteer_no: Mapped[str] = mapped_column(String(10))
    txn_time: Mapped[datetime] = mapped_column(UtcDateTime)
    day: Mapped[date] = mapped_column(Date)  # Beijing date of txn_time = the file's business date
    txn_type: Mapped[str] = mapped_column(String(8))
    orig_txn_id: Mapped[str | None] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(6))
    mcc: Mapped[str] = mapped_column(String(4))
    bank_fen: Mapped[int] = mapped_column(BigInteger)  # the bank's figure: any integer (0007)
    fen: Mapped[int] = mapped_column(Integer)  # SVA's figure
    beneficiary: Mapped[str] = mapped_column(String(10))
    flags: Mapped[int] = mapped_column(Integer)  # gateway.domain.donations bits

    __table_args__ = (
        # Only flagged records are ever listed: a small partial index, not one on 400M rows.
        Index(
            "ix_swipes_flagged",
            "beneficiary",
            "day",
            postgresql_where=text("flags <> 0"),
            sqlite_where=text("flags <> 0"),
        ),
    )


class SwipeReversal(Base):
    """A purchase and the one reversal that took its donation back: the primary key makes
    "not yet reversed" hold for ever, and costs an insert per reversal instead of an
    update of the purchase row."""

    __tablename__ = "swipe_reversals"

    orig_txn_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    txn_id: Mapped[str] = mapped_column(String(24))


class SwipeDuplicate(Base):
    """A SWIPE record whose txn_id was seen before: kept for the report, donates nothing."""

    __tablename__ = "swipe_duplicates"

    file_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    txn_id: Mapped[str] = mapped_column(String(24), index=True)
    card_id: Mapped[str] = mapped_column(String(16))
    volunteer_no: Mapped[str] = mapped_column(String(10))
    txn_time: Mapped[datetime] = mapped_column(UtcDateTime)
    day: Mapped[date] = mapped_column(Date)
    txn_type: Mapped[str] = mapped_column(String(8))
    orig_txn_id: Mapped[str | None] = mapped_column(String(24))
    bank_fen: Mapped[int] = mapped_column(BigInteger)  # the bank's figure: any integer (0007)
    beneficiary: Mapped[str] = mapped_column(String(10))
    flags: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_swipe_duplicates_beneficiary_day", "beneficiary", "day"),)


class DonationDay(Base):
    """Per beneficiary and Beijing day: maintained as SWIPE files are applied, so that a
    month's figures are a sum over at most 31 rows per beneficiary."""

    __tablename__ = "donation_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    volunteer_no: Mapped[str] = mapped_column(String(10), primary_key=True)  # beneficiary
    purchases: Mapped[int] = mapped_column(Integer)
    reversals: Mapped[int] = mapped_column(Integer)  # valid reversals
    computed_fen: Mapped[int] = mapped_column(Integer)
    bank_fen: Mapped[int] = mapped_column(BigInteger)  # the bank's figure: any integer (0007)
    flagged: Mapped[int] = mapped_column(Integer)  # flagged records (duplicates included)

    __table_args__ = (Index("ix_donation_days_volunteer_day", "volunteer_no", "day"),)


class DonationReceipt(Base):
    """One DONATION line of the fund (receipt_id unique for ever)."""

    __tablename__ = "donation_receipts"

    receipt_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    volunteer_no: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(6))
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # the fund's figure: any integer (0007)
    received_date: Mapped[date] = mapped_column(Date)
    file_id: Mapped[int] = mapped_column(Integer)
    line: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_donation_receipts_period_volunteer", "period", "volunteer_no"),)


class DonationPeriod(Base):
    """A month: its DONATIONEXP (sent, or sent early with an operator's recorded decision)
    and the last reconciliation summary."""

    __tablename__ = "donation_periods"

    period: Mapped[str] = mapped_column(String(6), primary_key=True)
    early_reason: Mapped[str | None] = mapped_column(Text)
    early_by: Mapped[str | None] = mapped_column(String(64))
    early_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    exp_file_id: Mapped[int | None] = mapped_column(Integer)
    exp_lines: Mapped[int | None] = mapped_column(Integer)
    exp_total_fen: Mapped[int | None] = mapped_column(Integer)
    report: Mapped[str | None] = mapped_column(Text)  # JSON summary of the last reconciliation
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
