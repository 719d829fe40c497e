"""exchange: files in and out, record errors, the exactly-once gate, outbound items, alerts

Revision ID: 0003_exchange
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_exchange"
down_revision = "0001_foundation"
branch_labels = ("exchange",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("partner", sa.String(8), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("file_type", sa.String(16), nullable=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("sender", sa.String(8), nullable=True),
        sa.Column("receiver", sa.String(8), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("identity", sa.String(120), nullable=True),
        sa.Column("content_key", sa.String(80), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=True),
        sa.Column("ack_status", sa.String(10), nullable=True),
        sa.Column("ack_code", sa.String(3), nullable=True),
        sa.Column("ack_text", sa.Text(), nullable=True),
        sa.Column("ack_file_id", sa.Integer(), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("raw_path", sa.String(500), nullable=True),
        sa.Column("plain_path", sa.String(500), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ack_file_id"], ["exchange_files.id"],
                                name="fk_exchange_files_ack_file_id_exchange_files"),
        sa.ForeignKeyConstraint(["duplicate_of_id"], ["exchange_files.id"],
                                name="fk_exchange_files_duplicate_of_id_exchange_files"),
        sa.PrimaryKeyConstraint("id", name="pk_exchange_files"),
        sa.UniqueConstraint("partner", "direction", "name", name="uq_exchange_files_partner_direction_name"),
        sa.UniqueConstraint("identity", name="uq_exchange_files_identity"),
        sa.UniqueConstraint("content_key", name="uq_exchange_files_content_key"),
    )
    op.create_index("ix_exchange_files_status", "exchange_files", ["partner", "direction", "status"])
    op.create_table(
        "exchange_record_errors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["exchange_files.id"],
                                name="fk_exchange_record_errors_file_id_exchange_files"),
        sa.PrimaryKeyConstraint("id", name="pk_exchange_record_errors"),
    )
    op.create_index("ix_exchange_record_errors_file_id", "exchange_record_errors", ["file_id"])
    op.create_table(
        "file_applications",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(120), nullable=True),
        sa.ForeignKeyConstraint(["file_id"], ["exchange_files.id"],
                                name="fk_file_applications_file_id_exchange_files"),
        sa.PrimaryKeyConstraint("file_id", name="pk_file_applications"),
    )
    op.create_table(
        "outbound_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ref", sa.String(40), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["exchange_files.id"],
                                name="fk_outbound_items_file_id_exchange_files"),
        sa.PrimaryKeyConstraint("id", name="pk_outbound_items"),
        sa.UniqueConstraint("file_id", "line", name="uq_outbound_items_file_id_line"),
    )
    op.create_index("ix_outbound_items_ref", "outbound_items", ["kind", "ref"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("partner", sa.String(8), nullable=True),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )


def downgrade() -> None:
    for table in ("alerts", "outbound_items", "file_applications", "exchange_record_errors", "exchange_files"):
        op.drop_table(table)
