"""donations: SWIPE records, per-day totals, the fund's receipts, periods (bank.md, fund.md)

Revision ID: 0006_donations
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_donations"
down_revision = "0001_foundation"
branch_labels = ("donations",)
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "swipes",
        sa.Column("txn_id", sa.String(24), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.String(16), nullable=False),
        sa.Column("volunteer_no", sa.String(10), nullable=False),
        sa.Column("txn_time", UTC_TS, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("txn_type", sa.String(8), nullable=False),
        sa.Column("orig_txn_id", sa.String(24), nullable=True),
        sa.Column("channel", sa.String(6), nullable=False),
        sa.Column("mcc", sa.String(4), nullable=False),
        sa.Column("bank_fen", sa.Integer(), nullable=False),
        sa.Column("fen", sa.Integer(), nullable=False),
        sa.Column("beneficiary", sa.String(10), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("txn_id", name=op.f("pk_swipes")),
    )
    op.create_table(
        "swipe_reversals",
        sa.Column("orig_txn_id", sa.String(24), nullable=False),
        sa.Column("txn_id", sa.String(24), nullable=False),
        sa.PrimaryKeyConstraint("orig_txn_id", name=op.f("pk_swipe_reversals")),
    )
    op.create_index(
        "ix_swipes_flagged",
        "swipes",
        ["beneficiary", "day"],
        unique=False,
        postgresql_where=sa.text("flags <> 0"),
        sqlite_where=sa.text("flags <> 0"),
    )
    op.create_table(
        "swipe_duplicates",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("txn_id", sa.String(24), nullable=False),
        sa.Column("card_id", sa.String(16), nullable=False),
        sa.Column("volunteer_no", sa.String(10), nullable=False),
        sa.Column("txn_time", UTC_TS, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("txn_type", sa.String(8), nullable=False),
        sa.Column("orig_txn_id", sa.String(24), nullable=True),
        sa.Column("bank_fen", sa.Integer(), nullable=False),
        sa.Column("beneficiary", sa.String(10), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("file_id", "line", name=op.f("pk_swipe_duplicates")),
    )
    op.create_index(
        "ix_swipe_duplicates_beneficiary_day", "swipe_duplicates", ["beneficiary", "day"], unique=False
    )
    op.create_index(op.f("ix_swipe_duplicates_txn_id"), "swipe_duplicates", ["txn_id"], unique=False)
    op.create_table(
        "donation_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("volunteer_no", sa.String(10), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("reversals", sa.Integer(), nullable=False),
        sa.Column("computed_fen", sa.Integer(), nullable=False),
        sa.Column("bank_fen", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "volunteer_no", name=op.f("pk_donation_days")),
    )
    op.create_index("ix_donation_days_volunteer_day", "donation_days", ["volunteer_no", "day"], unique=False)
    op.create_table(
        "donation_receipts",
        sa.Column("receipt_id", sa.String(24), nullable=False),
        sa.Column("volunteer_no", sa.String(10), nullable=False),
        sa.Column("period", sa.String(6), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("received_date", sa.Date(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("receipt_id", name=op.f("pk_donation_receipts")),
    )
    op.create_index(
        "ix_donation_receipts_period_volunteer",
        "donation_receipts",
        ["period", "volunteer_no"],
        unique=False,
    )
    op.create_table(
        "donation_periods",
        sa.Column("period", sa.String(6), nullable=False),
        sa.Column("early_reason", sa.Text(), nullable=True),
        sa.Column("early_by", sa.String(64), nullable=True),
        sa.Column("early_at", UTC_TS, nullable=True),
        sa.Column("exp_file_id", sa.Integer(), nullable=True),
        sa.Column("exp_lines", sa.Integer(), nullable=True),
        sa.Column("exp_total_fen", sa.Integer(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("reported_at", UTC_TS, nullable=True),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_donation_periods")),
    )


def downgrade() -> None:
    for table in (
        "donation_periods",
        "donation_receipts",
        "donation_days",
        "swipe_duplicates",
        "swipe_reversals",
        "swipes",
    ):
        op.drop_table(table)
