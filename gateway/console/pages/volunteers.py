"""Volunteers and cards: search by number (masked by default); a volunteer's page with the
card history as a timeline, the functions (transit, health, insurance, donation) with their
requests and answers, training and service hours. Personal data shows in clear only for a
role that may unmask (the operator, never the auditor), with a reason, audited as the API's
reads are."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from sqlalchemy import or_, select
from sqlalchemy.orm import load_only

from gateway.api import views
from gateway.api.auth import UNMASK_ROLES
from gateway.api.unit import db
from gateway.console.blueprint import bp, user
from gateway.console.forms import UnmaskForm, VolunteerSearch
from gateway.domain.errors import NotFound
from gateway.models import HealthRequest, InsuranceClaim, TransitRequest, Volunteer
from gateway.models.api import AuditEntry
from gateway.services import card_queries, reconciliation
from gateway.services import volunteers as volunteer_svc
from gateway.timeutil import beijing_today, utcnow
from schemas.api.pii import reveal
from schemas.api.volunteers import VolunteerDetailSchema, VolunteerSchema

PAGE = 25
# A list row needs only these columns: a page never decrypts every PII column of its rows.
_LIST_COLUMNS = load_only(Volunteer.id, Volunteer.volunteer_no, Volunteer.provisional_no, Volunteer.status,
                          Volunteer.name, Volunteer.official_since, Volunteer.carrier, Volunteer.branch_code)  # fmt: skip


@bp.route("/volunteers")
def volunteers() -> tuple[str, int]:
    form = VolunteerSearch(request.args)
    valid = form.validate() if request.args else True
    rows: list[Volunteer] = []
    more = None
    if valid:
        stmt = select(Volunteer).options(_LIST_COLUMNS)
        if form.number.data:
            n = form.number.data
            stmt = stmt.where(or_(Volunteer.volunteer_no == n, Volunteer.provisional_no == n))
        if form.before.data:
            stmt = stmt.where(Volunteer.id < form.before.data)
        rows = list(db().scalars(stmt.order_by(Volunteer.id.desc()).limit(PAGE + 1)))
        if len(rows) > PAGE:
            rows = rows[:PAGE]
            more = {"before": rows[-1].id}
    masked = VolunteerSchema(only=("number", "volunteer_no", "status", "name", "carrier", "branch_code")).dump(
        [{"number": v.volunteer_no or v.provisional_no, "volunteer_no": v.volunteer_no, "status": v.status,
          "name": v.name, "carrier": v.carrier, "branch_code": v.branch_code} for v in rows], many=True
    )  # fmt: skip
    return render_template("console/volunteers.html", form=form, rows=masked, more=more), (
        200 if valid else 422
    )


def _volunteer(number: str) -> Volunteer:
    try:
        return volunteer_svc.get_volunteer(db(), number)
    except NotFound:
        abort(404)


def _page(
    v: Volunteer, form: UnmaskForm | None = None, revealed: bool = False, status: int = 200
) -> tuple[str, int]:
    session, today = db(), beijing_today()
    detail = views.volunteer_detail(session, v, today)
    if revealed:
        with reveal() as seen:
            person = VolunteerDetailSchema().dump(detail)
        _audit(v, seen.fields, form.reason.data if form else "")
    else:
        person = VolunteerDetailSchema().dump(detail)
    history = card_queries.history(session, v)
    context: dict[str, Any] = {
        "v": person,
        "history": history,
        "transit": session.scalars(select(TransitRequest).where(TransitRequest.volunteer_id == v.id)
                                   .order_by(TransitRequest.id.desc()).limit(20)).all(),
        "health": session.scalars(select(HealthRequest).where(HealthRequest.volunteer_id == v.id)
                                  .order_by(HealthRequest.id.desc()).limit(20)).all(),
        "claims": session.scalars(select(InsuranceClaim).where(InsuranceClaim.volunteer_id == v.id)
                                  .order_by(InsuranceClaim.incident_time.desc()).limit(20)).all(),
        "donations": reconciliation.volunteer_months(session, v.volunteer_no) if v.volunteer_no else [],
        "form": form or UnmaskForm(formdata=None),
        "revealed": revealed,
        "may_unmask": user().role in UNMASK_ROLES,
    }  # fmt: skip
    return render_template("console/volunteer.html", **context), status


def _audit(v: Volunteer, fields: set[str], reason: str) -> None:
    """One audit entry per unmasked read, as the API writes (gateway.api.blueprint)."""
    if not fields:
        return
    who = user()
    db().add(
        AuditEntry(
            at=utcnow(), token_id=who.token_id, token_name=who.name, role=who.role, method=request.method,
            path=request.full_path.rstrip("?")[:1000], fields_revealed=",".join(sorted(fields)),
            subjects=v.volunteer_no or v.provisional_no, reason=reason,
        )
    )  # fmt: skip


@bp.route("/volunteers/<string(maxlength=16):number>")
def volunteer(number: str) -> tuple[str, int]:
    return _page(_volunteer(number))


@bp.route("/volunteers/<string(maxlength=16):number>/unmask", methods=["POST"])
def unmask(number: str) -> tuple[str, int]:
    v = _volunteer(number)
    if user().role not in UNMASK_ROLES:
        abort(403)
    form = UnmaskForm()
    if not form.validate_on_submit():
        return _page(v, form, status=422)
    return _page(v, form, revealed=True)
