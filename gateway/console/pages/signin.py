"""Signing in with an API token, signing out, choosing the language."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from gateway.api import tokens
from gateway.api.unit import db
from gateway.console import security
from gateway.console.blueprint import PAGES, READ_ROLES, bp
from gateway.console.forms import LanguageForm, SignInForm, SignOutForm
from gateway.console.i18n import LANGUAGES


def _local(target: str | None) -> str:
    """Where to go after signing in: a console path of this host only (no open redirect)."""
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.overview")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        row = tokens.authenticate(db(), form.token.data.strip())
        if row is None:
            form.token.errors.append(_("The token is unknown or revoked."))
        elif row.role not in READ_ROLES:
            form.token.errors.append(
                _(
                    "A %(role)s token has no console: sign in with an operator or auditor token.",
                    role=row.role,
                )
            )
        else:
            security.sign_in(row)
            return redirect(_local(form.next.data))
    why = request.args.get("why")
    status = 422 if form.errors else 200
    return render_template("console/sign_in.html", form=form, why=why), status


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    security.sign_out()
    flash(_("Signed out."))
    return redirect(url_for("console.sign_in"))


@bp.route("/language", methods=["POST"])
def language() -> Response:
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in LANGUAGES:
        session["lang"] = form.lang.data
    return redirect(
        _local(form.next.data) if form.next.data != "/console/sign-in" else url_for("console.sign_in")
    )


@bp.context_processor
def chrome() -> dict:
    """What every console page's frame needs: the forms of the language switch and sign-out."""
    return {"language_form": LanguageForm, "sign_out_form": SignOutForm, "pages": PAGES}
