"""idempotency purge: an index on api_idempotency.created_at

Revision ID: 0011_idempotency_purge
Revises: 0008_volunteer_view

The retention job deletes the records older than their window every night
(gateway.services.retention); without the index each purge reads the whole table.
"""

from alembic import op

revision = "0011_idempotency_purge"
down_revision = "0008_volunteer_view"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_api_idempotency_created_at"), "api_idempotency", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_api_idempotency_created_at"), table_name="api_idempotency")
