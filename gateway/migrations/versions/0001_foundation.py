"""Foundation: branches, volunteers, training, service sessions, orders, cards, card
events, held events, card functions, card requests, the working-day calendar.

Every other area branches from this revision with its own migrations.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

# Encrypted PII columns are sealed blobs; instants are UTC timestamps.
PII = sa.LargeBinary
UTC_TS = sa.DateTime(timezone=True)

# branches.csv (partners/branches.csv) as agreed when this revision was written.
BRANCHES = [
    ("44001", "中国银行深圳市分行营业部", "福田区"),
    ("44002", "中国银行深圳福田支行", "福田区"),
    ("44003", "中国银行深圳罗湖支行", "罗湖区"),
    ("44004", "中国银行深圳南山支行", "南山区"),
    ("44005", "中国银行深圳宝安支行", "宝安区"),
    ("44006", "中国银行深圳龙岗支行", "龙岗区"),
    ("44007", "中国银行深圳盐田支行", "盐田区"),
    ("44008", "中国银行深圳龙华支行", "龙华区"),
    ("44009", "中国银行深圳坪山支行", "坪山区"),
    ("44010", "中国银行深圳光明支行", "光明区"),
]


def upgrade() -> None:
    branches = op.create_table(
        "branches",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("district", sa.String(length=20), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_branches")),
    )
    op.bulk_insert(branches, [{"code": c, "name": n, "district": d, "open": True} for c, n, d in BRANCHES])

    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("loaded_at", UTC_TS, nullable=False),
        sa.Column("loaded_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["year"], ["calendar_years.year"], name=op.f("fk_calendar_days_year_calendar_years")
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    op.create_index(op.f("ix_calendar_days_year"), "calendar_days", ["year"], unique=False)

    op.create_table(
        "volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provisional_no", sa.String(length=16), nullable=False),
        sa.Column("volunteer_no", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("name", PII(), nullable=False),
        sa.Column("id_type", sa.String(length=8), nullable=False),
        sa.Column("id_number", PII(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("mobile", PII(), nullable=False),
        sa.Column("address", PII(), nullable=False),
        sa.Column("emergency_name", PII(), nullable=False),
        sa.Column("emergency_mobile", PII(), nullable=False),
        sa.Column("guardian_name", PII(), nullable=True),
        sa.Column("guardian_mobile", PII(), nullable=True),
        sa.Column("photo", PII(), nullable=True),
        sa.Column("opt_transit", sa.Boolean(), nullable=False),
        sa.Column("opt_health", sa.Boolean(), nullable=False),
        sa.Column("carrier", sa.String(length=6), nullable=True),
        sa.Column("branch_code", sa.String(length=5), nullable=True),
        sa.Column("applied_at", UTC_TS, nullable=False),
        sa.Column("official_since", sa.Date(), nullable=True),
        sa.Column("deregistered_at", UTC_TS, nullable=True),
        sa.Column("source", sa.String(length=120), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_code"], ["branches.code"], name=op.f("fk_volunteers_branch_code_branches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("provisional_no", name=op.f("uq_volunteers_provisional_no")),
        sa.UniqueConstraint("volunteer_no", name=op.f("uq_volunteers_volunteer_no")),
    )
    op.create_index(op.f("ix_volunteers_id_hash"), "volunteers", ["id_hash"], unique=False)
    op.create_index(op.f("ix_volunteers_status"), "volunteers", ["status"], unique=False)

    op.create_table(
        "training_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("course", sa.String(length=100), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=120), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_training_records_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_records")),
    )
    op.create_index(
        op.f("ix_training_records_volunteer_id"), "training_records", ["volunteer_id"], unique=False
    )
    op.create_table(
        "service_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("activity", sa.String(length=100), nullable=True),
        sa.Column("check_in", UTC_TS, nullable=True),
        sa.Column("check_out", UTC_TS, nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_service_sessions_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_sessions")),
    )
    op.create_index(
        op.f("ix_service_sessions_volunteer_id"), "service_sessions", ["volunteer_id"], unique=False
    )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=20), nullable=False),
        sa.Column("order_type", sa.String(length=5), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=6), nullable=False),
        sa.Column("branch_code", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("sent_file", sa.String(length=80), nullable=True),
        sa.Column("sent_at", UTC_TS, nullable=True),
        sa.Column("day0", sa.Date(), nullable=True),
        sa.Column("produced_due", sa.Date(), nullable=True),
        sa.Column("notified_due", sa.Date(), nullable=True),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("produced_on", sa.Date(), nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("reject_code", sa.String(length=3), nullable=True),
        sa.Column("reject_text", sa.String(length=100), nullable=True),
        sa.Column("record_error", sa.String(length=200), nullable=True),
        sa.Column("closed_at", UTC_TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_code"], ["branches.code"], name=op.f("fk_orders_branch_code_branches")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_orders_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("order_id", name=op.f("uq_orders_order_id")),
    )
    op.create_index(op.f("ix_orders_day0"), "orders", ["day0"], unique=False)
    op.create_index(op.f("ix_orders_status"), "orders", ["status"], unique=False)
    op.create_index(op.f("ix_orders_volunteer_id"), "orders", ["volunteer_id"], unique=False)

    op.create_table(
        "cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("order_pk", sa.Integer(), nullable=True),
        sa.Column("card_id", sa.String(length=16), nullable=True),
        sa.Column("masked_pan", sa.String(length=16), nullable=True),
        sa.Column("expiry", sa.String(length=6), nullable=True),
        sa.Column("carrier", sa.String(length=6), nullable=False),
        sa.Column("branch_code", sa.String(length=5), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("replaces_pk", sa.Integer(), nullable=True),
        sa.Column("replaced_by_pk", sa.Integer(), nullable=True),
        sa.Column("loss_requested_at", UTC_TS, nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("notified_inferred", sa.Boolean(), nullable=False),
        sa.Column("pickup_deadline", sa.Date(), nullable=True),
        sa.Column("collected_at", UTC_TS, nullable=True),
        sa.Column("dead_at", UTC_TS, nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_code"], ["branches.code"], name=op.f("fk_cards_branch_code_branches")
        ),
        sa.ForeignKeyConstraint(["order_pk"], ["orders.id"], name=op.f("fk_cards_order_pk_orders")),
        sa.ForeignKeyConstraint(["replaced_by_pk"], ["cards.id"], name=op.f("fk_cards_replaced_by_pk_cards")),
        sa.ForeignKeyConstraint(["replaces_pk"], ["cards.id"], name=op.f("fk_cards_replaces_pk_cards")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_cards_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cards")),
        sa.UniqueConstraint("card_id", name=op.f("uq_cards_card_id")),
        sa.UniqueConstraint("order_pk", name=op.f("uq_cards_order_pk")),
    )
    op.create_index(op.f("ix_cards_pickup_deadline"), "cards", ["pickup_deadline"], unique=False)
    op.create_index(op.f("ix_cards_state"), "cards", ["state"], unique=False)
    op.create_index(op.f("ix_cards_volunteer_id"), "cards", ["volunteer_id"], unique=False)

    op.create_table(
        "card_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_pk", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("event_time", UTC_TS, nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("applied_at", UTC_TS, nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("source_file", sa.String(length=80), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("inferred", sa.Boolean(), nullable=False),
        sa.Column("completes_pk", sa.Integer(), nullable=True),
        sa.Column("bank_event_id", sa.String(length=20), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["card_pk"], ["cards.id"], name=op.f("fk_card_events_card_pk_cards")),
        sa.ForeignKeyConstraint(
            ["completes_pk"], ["card_events.id"], name=op.f("fk_card_events_completes_pk_card_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_events")),
        sa.UniqueConstraint("bank_event_id", name=op.f("uq_card_events_bank_event_id")),
    )
    op.create_index(op.f("ix_card_events_card_pk"), "card_events", ["card_pk"], unique=False)

    op.create_table(
        "card_functions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_pk", sa.Integer(), nullable=False),
        sa.Column("function", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("changed_at", UTC_TS, nullable=False),
        sa.Column("partner_ref", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["card_pk"], ["cards.id"], name=op.f("fk_card_functions_card_pk_cards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_functions")),
        sa.UniqueConstraint("card_pk", "function", name=op.f("uq_card_functions_card_pk_function")),
    )
    op.create_index(op.f("ix_card_functions_card_pk"), "card_functions", ["card_pk"], unique=False)
    op.create_index(op.f("ix_card_functions_state"), "card_functions", ["state"], unique=False)

    op.create_table(
        "held_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_pk", sa.Integer(), nullable=True),
        sa.Column("card_id", sa.String(length=16), nullable=True),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("event_time", UTC_TS, nullable=True),
        sa.Column("source_file", sa.String(length=80), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("held_at", UTC_TS, nullable=False),
        sa.Column("resolved_at", UTC_TS, nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["card_pk"], ["cards.id"], name=op.f("fk_held_events_card_pk_cards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_events")),
    )
    op.create_index(op.f("ix_held_events_card_id"), "held_events", ["card_id"], unique=False)
    op.create_index(op.f("ix_held_events_card_pk"), "held_events", ["card_pk"], unique=False)
    op.create_index(op.f("ix_held_events_status"), "held_events", ["status"], unique=False)

    op.create_table(
        "card_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=20), nullable=False),
        sa.Column("request_type", sa.String(length=12), nullable=False),
        sa.Column("card_pk", sa.Integer(), nullable=True),
        sa.Column("order_pk", sa.Integer(), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("request_time", UTC_TS, nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("sent_file", sa.String(length=80), nullable=True),
        sa.Column("sent_at", UTC_TS, nullable=True),
        sa.Column("closed_at", UTC_TS, nullable=True),
        sa.Column("outcome", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["card_pk"], ["cards.id"], name=op.f("fk_card_requests_card_pk_cards")),
        sa.ForeignKeyConstraint(["order_pk"], ["orders.id"], name=op.f("fk_card_requests_order_pk_orders")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_card_requests_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_requests")),
        sa.UniqueConstraint("request_id", name=op.f("uq_card_requests_request_id")),
    )
    op.create_index(op.f("ix_card_requests_card_pk"), "card_requests", ["card_pk"], unique=False)
    op.create_index(op.f("ix_card_requests_order_pk"), "card_requests", ["order_pk"], unique=False)
    op.create_index(op.f("ix_card_requests_status"), "card_requests", ["status"], unique=False)
    op.create_index(op.f("ix_card_requests_volunteer_id"), "card_requests", ["volunteer_id"], unique=False)


def downgrade() -> None:
    for table in (
        "card_requests",
        "held_events",
        "card_functions",
        "card_events",
        "cards",
        "orders",
        "service_sessions",
        "training_records",
        "volunteers",
        "calendar_days",
        "calendar_years",
        "branches",
    ):
        op.drop_table(table)
