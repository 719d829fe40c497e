"""Alembic environment: the connection comes from gateway.migrate (settings), never from
alembic.ini, so the same migrations run on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import context as alembic_context

import gateway.models  # noqa: F401  (fills Base.metadata)
from gateway.models.base import Base


def _configure_and_run(conn) -> None:
    alembic_context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with alembic_context.begin_transaction():
        alembic_context.run_migrations()


conn = alembic_context.config.attributes.get("connection")
if conn is not None:
    _configure_and_run(conn)
else:
    from gateway import context

    with context.current().engine.connect() as own:
        _configure_and_run(own)
        own.commit()
