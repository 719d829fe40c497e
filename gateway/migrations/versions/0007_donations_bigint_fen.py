"""donations: the partners' money figures as 64-bit integers

Revision ID: 0007_donations_bigint_fen
Revises: 0006_donations

Integers in partner files follow ``-?(0|[1-9][0-9]*)`` (partners/README.md) and the
readers take up to 18 digits (schemas.fields.INTEGER). A bank's ``donation_fen`` or a
fund's ``amount_fen`` above 2,147,483,647 is wrong but valid: in a 32-bit column it made
the whole file fail to apply, for ever; in a 64-bit one it is stored and flagged
(``BANK_DIFFERS``) or reconciled (``OVER``) like any other wrong figure.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_donations_bigint_fen"
down_revision = "0006_donations"
branch_labels = None
depends_on = None

COLUMNS = (
    ("swipes", "bank_fen"),
    ("swipe_duplicates", "bank_fen"),
    ("donation_days", "bank_fen"),
    ("donation_receipts", "amount_fen"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False)


def downgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
