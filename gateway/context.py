"""The process-wide runtime: settings, database engine and session factory.

The Flask app, the CLI, RQ jobs and tests all reach the database through a ``Runtime``.
Building one opens no socket until a session is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway import settings as settings_mod
from gateway.db import make_engine, make_sessionmaker


@dataclass
class Runtime:
    settings: settings_mod.Settings
    engine: Engine
    sessions: sessionmaker[Session]


_current: Runtime | None = None


def build(settings: settings_mod.Settings | None = None) -> Runtime:
    s = settings or settings_mod.load()
    engine = make_engine(s.database_url)
    return Runtime(settings=s, engine=engine, sessions=make_sessionmaker(engine))


def current() -> Runtime:
    """The runtime of this process, built from the environment on first use."""
    global _current
    if _current is None:
        _current = build()
    return _current


def install(runtime: Runtime | None) -> None:
    """Make ``runtime`` the process runtime (the app factory and tests call this)."""
    global _current
    _current = runtime
