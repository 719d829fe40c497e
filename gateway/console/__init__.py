"""The operators' console: server-rendered pages under ``/console``, in the same app as the
JSON API and on the same services (no second way to the data).

Sign-in takes an API token (operator or auditor) into a signed session cookie that expires;
every POST carries a CSRF token (Flask-WTF); an auditor sees everything masked and can press
nothing, as in the API. Labels are Simplified Chinese by default, English selectable
(Flask-Babel, catalogues in ``translations/``). Every asset (CSS, the script, ECharts) is
served by the gateway itself: nothing loads from another host.
"""

from __future__ import annotations

from flask import Flask

from gateway.console import (
    i18n,
    pages,  # noqa: F401 - importing the pages registers their routes
    security,
)
from gateway.console.blueprint import bp


def register_console(app: Flask) -> None:
    settings = app.extensions["svcard"].settings
    security.configure(app, settings)
    i18n.configure(app)
    app.register_blueprint(bp, url_prefix="/console")
