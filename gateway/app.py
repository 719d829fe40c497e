"""The one app factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from gateway import context
from gateway import settings as settings_mod


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app. ``overrides`` replace settings fields (tests)."""
    s = settings_mod.load(**(overrides or {}))
    runtime = context.build(s)
    context.install(runtime)
    app = Flask("gateway")
    app.extensions["svcard"] = runtime
    from gateway.logs import configure_logging

    configure_logging(s.log_level, s.log_style)
    from gateway.api import register_api

    register_api(app)
    return app
