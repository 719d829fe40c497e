"""statistics: the programme's monthly aggregates (gateway.models.statistics)

Revision ID: 0010_statistics
Revises: 0009_terminals

Kept by the statistics job from the sessions, the volunteers and the cards; nothing
else writes them, so they can be dropped and recomputed at any time.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_statistics"
down_revision = "0009_terminals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stat_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("minutes", sa.BigInteger(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("volunteers", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("official", sa.Integer(), nullable=False),
        sa.Column("cards_collected", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_stat_months")),
    )
    op.create_table(
        "stat_cells",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(12), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("sub", sa.String(10), nullable=False),
        sa.Column("minutes", sa.BigInteger(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("volunteers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "dimension", "key", "sub", name=op.f("pk_stat_cells")),
    )
    # The month's session scan of the statistics job: check-ins in a range.
    op.create_index(op.f("ix_service_sessions_check_in"), "service_sessions", ["check_in"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_service_sessions_check_in"), table_name="service_sessions")
    op.drop_table("stat_cells")
    op.drop_table("stat_months")
