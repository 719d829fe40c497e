"""One database session per API request: the view's work, the audit entries and the
idempotency record commit together, after the view, or not at all."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session


def db() -> Session:
    """The session of the current request (opened on first use)."""
    session = g.get("svcard_db")
    if session is None:
        session = current_app.extensions["svcard"].sessions()
        g.svcard_db = session
    return session


def close(_exc: BaseException | None = None) -> None:
    session = g.pop("svcard_db", None)
    if session is not None:
        session.rollback()  # no-op after a commit; undoes anything left on an error path
        session.close()
