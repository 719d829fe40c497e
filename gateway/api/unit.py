"""One database session per API request: the view's work, the audit entries and the
idempotency record commit together, after the view, or not at all. A view that calls a
service reaching a partner hands it ``ports()``, the app runtime's."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from gateway import wiring
from gateway.services.ports import Ports


def db() -> Session:
    """The session of the current request (opened on first use)."""
    session = g.get("svcard_db")
    if session is None:
        session = current_app.extensions["svcard"].sessions()
        g.svcard_db = session
    return session


def ports() -> Ports:
    """The ports of the app's runtime (``with ports() as p:`` closes the clients built)."""
    return wiring.ports(current_app.extensions["svcard"])


def close(_exc: BaseException | None = None) -> None:
    session = g.pop("svcard_db", None)
    if session is not None:
        session.rollback()  # no-op after a commit; undoes anything left on an error path
        session.close()
