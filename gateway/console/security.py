"""The console's safety: the signed session cookie and its expiry, CSRF on every POST, the
security headers of every console answer.

The session cookie holds the token's id and the sign-in time, signed with
``SVCARD_CONSOLE_SECRET`` (never the token itself). Every request reloads the token: a token
revoked with ``svcard tokens revoke`` ends its console sessions at once. The sign-in lasts
``SVCARD_CONSOLE_SESSION_MINUTES`` by the gateway's clock, whatever the browser keeps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.wrappers import Response

from gateway.api.unit import db
from gateway.console.blueprint import READ_ROLES, User, bp
from gateway.models.api import ApiToken
from gateway.settings import Settings
from gateway.timeutil import utcnow

csrf = CSRFProtect()

# Endpoints a browser reaches before signing in.
PUBLIC = frozenset({"console.sign_in", "console.static", "console.language"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Scripts and styles from the gateway only (no inline script, no eval); ECharts' tooltips
# carry style attributes, hence 'unsafe-inline' for styles alone. Charts draw on canvas.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def configure(app: Flask, settings: Settings) -> None:
    app.secret_key = settings.console_secret
    app.config.update(
        SESSION_COOKIE_NAME="svcard_console",
        SESSION_COOKIE_PATH="/console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.production,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.console_session_minutes),
        # Checked for every console POST by ``guard`` below, not app-wide: the JSON API's
        # POSTs carry a bearer token, which a browser never sends on its own.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=settings.console_session_minutes * 60,
    )
    app.extensions["svcard_console_minutes"] = settings.console_session_minutes
    csrf.init_app(app)


def sign_in(token: ApiToken) -> None:
    session.clear()
    session.permanent = True
    session.update(token_id=token.id, at=utcnow().timestamp(), lang=session.get("lang"))


def sign_out() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _expired(signed_in_at: Any, minutes: int) -> bool:
    if not isinstance(signed_in_at, int | float):
        return True
    return utcnow().timestamp() - signed_in_at > minutes * 60


@bp.before_request
def guard() -> Response | None:
    """CSRF first (a forged POST is refused before anything else), then the sign-in."""
    if request.method not in SAFE_METHODS:
        csrf.protect()
    if request.endpoint in PUBLIC:
        return None
    token_id = session.get("token_id")
    minutes = current_app.extensions["svcard_console_minutes"]
    expired = token_id is not None and _expired(session.get("at"), minutes)
    row = db().get(ApiToken, token_id) if token_id is not None and not expired else None
    if row is None or row.revoked_at is not None or row.role not in READ_ROLES:
        sign_out()
        reason = "expired" if expired else ("revoked" if token_id is not None else None)
        nxt = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("console.sign_in", why=reason, next=nxt))
    g.console_user = User(token_id=row.id, name=row.name, role=row.role)
    return None


@bp.after_request
def headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = CSP
    return resp


@bp.app_errorhandler(CSRFError)
def csrf_refused(exc: CSRFError) -> tuple[str, int]:
    return render_template("console/error.html", status=400, reason=exc.description), 400


@bp.errorhandler(403)
def forbidden(_exc: Exception) -> tuple[str, int]:
    return render_template("console/error.html", status=403, reason=None), 403


@bp.errorhandler(404)
def not_found(_exc: Exception) -> tuple[str, int]:
    return render_template("console/error.html", status=404, reason=None), 404
