"""API: bearer tokens, the append-only audit log of unmasked reads, idempotency records.

Revision ID: 0002_api
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_api"
down_revision = "0001_foundation"
branch_labels = ("api",)
depends_on = None

APPEND_ONLY = "api_audit_log is append-only"


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('platform', 'operator', 'auditor', 'admin')", name="ck_api_tokens_role"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "api_audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("token_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("fields_revealed", sa.Text(), nullable=False),
        sa.Column("subjects", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], name="fk_api_audit_log_token_id_api_tokens"),
        sa.PrimaryKeyConstraint("id", name="pk_api_audit_log"),
    )
    op.create_index("ix_api_audit_log_token_id", "api_audit_log", ["token_id"])
    op.create_table(
        "api_idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name="fk_api_idempotency_token_id_api_tokens"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_idempotency"),
        sa.UniqueConstraint("token_id", "key", name="uq_api_idempotency_token_id_key"),
    )
    # The audit log is append-only in the database itself, not only in the code: a
    # trigger refuses every UPDATE and DELETE (and TRUNCATE on PostgreSQL).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION api_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER api_audit_log_no_change BEFORE UPDATE OR DELETE ON api_audit_log "
            "FOR EACH ROW EXECUTE FUNCTION api_audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER api_audit_log_no_truncate BEFORE TRUNCATE ON api_audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION api_audit_log_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER api_audit_log_no_{action.lower()} BEFORE {action} ON api_audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS api_audit_log_no_truncate ON api_audit_log")
        op.execute("DROP TRIGGER IF EXISTS api_audit_log_no_change ON api_audit_log")
        op.execute("DROP FUNCTION IF EXISTS api_audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS api_audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS api_audit_log_no_delete")
    op.drop_table("api_idempotency")
    op.drop_index("ix_api_audit_log_token_id", table_name="api_audit_log")
    op.drop_table("api_audit_log")
    op.drop_table("api_tokens")
