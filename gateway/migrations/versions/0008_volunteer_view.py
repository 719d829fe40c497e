"""API: short-lived tokens bound to one volunteer (a volunteer's own view, issue 14)

Revision ID: 0008_volunteer_view
Revises: 0002_api
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_volunteer_view"
down_revision = "0002_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_volunteer_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name="fk_api_volunteer_tokens_volunteer_id_volunteers"
        ),
        sa.ForeignKeyConstraint(["issued_by"], ["api_tokens.id"], name="fk_api_volunteer_tokens_issued_by_api_tokens"),
        sa.PrimaryKeyConstraint("id", name="pk_api_volunteer_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_volunteer_tokens_token_hash"),
    )
    op.create_index("ix_api_volunteer_tokens_volunteer_id", "api_volunteer_tokens", ["volunteer_id"])


def downgrade() -> None:
    op.drop_index("ix_api_volunteer_tokens_volunteer_id", table_name="api_volunteer_tokens")
    op.drop_table("api_volunteer_tokens")
