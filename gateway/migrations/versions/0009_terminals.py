"""terminals: the platform's POS terminals, their swipes, and the place of a session

Revision ID: 0009_terminals
Revises: 0001_foundation

Sessions and training records gain their place (a district code of
``gateway.domain.places``, the terminal, the site), all nullable: the rows recorded
before places were kept have none, and a session without a place counts as inside
Shenzhen (insurer.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_terminals"
down_revision = "0001_foundation"
branch_labels = ("terminals",)
depends_on = None

UTC_TS = sa.DateTime(timezone=True)
COORDINATE = sa.Numeric(9, 6)


def upgrade() -> None:
    op.create_table(
        "terminals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.String(20), nullable=False),
        sa.Column("organisation", sa.String(100), nullable=False),
        sa.Column("district", sa.String(10), nullable=False),
        sa.Column("site_name", sa.String(100), nullable=True),
        sa.Column("latitude", COORDINATE, nullable=True),
        sa.Column("longitude", COORDINATE, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(120), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terminals")),
        sa.UniqueConstraint("terminal_id", name=op.f("uq_terminals_terminal_id")),
    )
    op.create_index(op.f("ix_terminals_district"), "terminals", ["district"], unique=False)
    op.create_index(op.f("ix_terminals_organisation"), "terminals", ["organisation"], unique=False)
    op.create_table(
        "terminal_swipes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_pk", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(9), nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
        sa.Column("card_id", sa.String(16), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("training_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_pk"], ["terminals.id"], name=op.f("fk_terminal_swipes_terminal_pk_terminals")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_terminal_swipes_volunteer_id_volunteers")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["service_sessions.id"], name=op.f("fk_terminal_swipes_session_id_service_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["training_records.id"],
            name=op.f("fk_terminal_swipes_training_id_training_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terminal_swipes")),
    )
    op.create_index(
        "ix_terminal_swipes_repeat", "terminal_swipes", ["terminal_pk", "volunteer_id", "kind", "at"], unique=False
    )
    op.create_index(op.f("ix_terminal_swipes_volunteer_id"), "terminal_swipes", ["volunteer_id"], unique=False)

    with op.batch_alter_table("service_sessions") as batch:
        batch.add_column(sa.Column("district", sa.String(10), nullable=True))
        batch.add_column(sa.Column("terminal_id", sa.String(20), nullable=True))
        batch.add_column(sa.Column("site", sa.String(100), nullable=True))
        batch.create_index(op.f("ix_service_sessions_district"), ["district"], unique=False)
        batch.create_index("ix_service_sessions_open", ["check_out", "check_in"], unique=False)
    with op.batch_alter_table("training_records") as batch:
        batch.add_column(sa.Column("district", sa.String(10), nullable=True))
        batch.add_column(sa.Column("terminal_id", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("training_records") as batch:
        batch.drop_column("terminal_id")
        batch.drop_column("district")
    with op.batch_alter_table("service_sessions") as batch:
        batch.drop_index("ix_service_sessions_open")
        batch.drop_index(op.f("ix_service_sessions_district"))
        batch.drop_column("site")
        batch.drop_column("terminal_id")
        batch.drop_column("district")
    op.drop_table("terminal_swipes")
    op.drop_table("terminals")
