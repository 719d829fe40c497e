"""transit: Shenzhen Tong requests (transit.md)

Revision ID: 0004_transit
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_transit"
down_revision = "0001_foundation"
branch_labels = ("transit",)
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "transit_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(20), nullable=False),
        sa.Column("action", sa.String(7), nullable=False),
        sa.Column("card_pk", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.String(16), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_no", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("cause", sa.String(40), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("result", sa.String(6), nullable=True),
        sa.Column("reason_code", sa.String(3), nullable=True),
        sa.Column("transit_account_no", sa.String(12), nullable=True),
        sa.Column("processed_date", sa.Date(), nullable=True),
        sa.Column("sent_file", sa.String(80), nullable=True),
        sa.Column("answer_file", sa.String(80), nullable=True),
        sa.Column("note", sa.String(300), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("sent_at", UTC_TS, nullable=True),
        sa.Column("closed_at", UTC_TS, nullable=True),
        sa.ForeignKeyConstraint(["card_pk"], ["cards.id"], name=op.f("fk_transit_requests_card_pk_cards")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_transit_requests_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transit_requests")),
        sa.UniqueConstraint("request_id", name=op.f("uq_transit_requests_request_id")),
    )
    op.create_index(
        "ix_transit_requests_card_status", "transit_requests", ["card_pk", "status"], unique=False
    )
    op.create_index(op.f("ix_transit_requests_status"), "transit_requests", ["status"], unique=False)
    op.create_index(
        op.f("ix_transit_requests_volunteer_id"), "transit_requests", ["volunteer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("transit_requests")
