"""soap: health-card request queue, insurance claims and claim sweeps (health.md, insurer.md)

Revision ID: 0005_soap
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_soap"
down_revision = "0001_foundation"
branch_labels = ("soap",)
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "health_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(7), nullable=False),
        sa.Column("card_pk", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.String(16), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_no", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("health_card_no", sa.String(18), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_TS, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("result", sa.String(6), nullable=True),
        sa.Column("reason_code", sa.String(3), nullable=True),
        sa.Column("retried_as", sa.String(32), nullable=True),
        sa.Column("note", sa.String(300), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("first_sent_at", UTC_TS, nullable=True),
        sa.Column("last_sent_at", UTC_TS, nullable=True),
        sa.Column("closed_at", UTC_TS, nullable=True),
        sa.ForeignKeyConstraint(["card_pk"], ["cards.id"], name=op.f("fk_health_requests_card_pk_cards")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_health_requests_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_requests")),
        sa.UniqueConstraint("request_id", name=op.f("uq_health_requests_request_id")),
    )
    op.create_index("ix_health_requests_status_next", "health_requests", ["status", "next_attempt_at"])
    op.create_index(
        "uq_health_requests_one_open",
        "health_requests",
        ["volunteer_id"],
        unique=True,
        sqlite_where=sa.text("status = 'PENDING'"),
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_index(op.f("ix_health_requests_card_pk"), "health_requests", ["card_pk"])
    op.create_index(op.f("ix_health_requests_volunteer_id"), "health_requests", ["volunteer_id"])

    op.create_table(
        "insurance_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_no", sa.String(32), nullable=False),
        sa.Column("volunteer_no", sa.String(10), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("incident_time", UTC_TS, nullable=False),
        sa.Column("category", sa.String(12), nullable=False),
        sa.Column("disability_grade", sa.Integer(), nullable=True),
        sa.Column("claimed_fen", sa.BigInteger(), nullable=False),
        sa.Column("approved_fen", sa.BigInteger(), nullable=True),
        sa.Column("paid_fen", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("status_time", UTC_TS, nullable=False),
        sa.Column("reject_reason", sa.String(200), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("covered", sa.Boolean(), nullable=True),
        sa.Column("allowed_fen", sa.BigInteger(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("checked_at", UTC_TS, nullable=True),
        sa.Column("fetched_at", UTC_TS, nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_insurance_claims_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insurance_claims")),
        sa.UniqueConstraint("claim_no", name=op.f("uq_insurance_claims_claim_no")),
    )
    op.create_index(op.f("ix_insurance_claims_volunteer_no"), "insurance_claims", ["volunteer_no"])
    op.create_index(op.f("ix_insurance_claims_volunteer_id"), "insurance_claims", ["volunteer_id"])
    op.create_index(op.f("ix_insurance_claims_flagged"), "insurance_claims", ["flagged"])

    op.create_table(
        "insurance_claim_sweeps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("claims_seen", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(300), nullable=True),
        sa.Column("started_at", UTC_TS, nullable=False),
        sa.Column("finished_at", UTC_TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insurance_claim_sweeps")),
    )


def downgrade() -> None:
    op.drop_table("insurance_claim_sweeps")
    op.drop_table("insurance_claims")
    op.drop_table("health_requests")
