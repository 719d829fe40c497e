"""The one app factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from gateway import context
from gateway import settings as settings_mod
from gateway.api import register_api
from gateway.console import register_console
from gateway.logs import configure_logging


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app. ``overrides`` replace settings fields (tests)."""
    s = settings_mod.load(**(overrides or {}))
    runtime = context.build(s)
    context.install(runtime)
    app = Flask("gateway")
    app.extensions["svcard"] = runtime
    configure_logging(s.log_level, s.log_style)
    register_api(app)
    register_console(app)
    return app
