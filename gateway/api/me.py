"""A volunteer's own view (信息查询): ``/api/me/...`` with a volunteer-scoped token
(``gateway.api.volunteer_scope``), and the platform's route that issues one.

Every read is of the token's volunteer only, and is written to the audit log under the
issuing platform token (role ``volunteer``, the volunteer as subject).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from flask import Response, request

from gateway.api import volunteer_scope
from gateway.api.auth import VOLUNTEER, caller
from gateway.api.blueprint import ApiBlueprint
from gateway.api.care import claim_answer
from gateway.api.unit import db
from gateway.models import AuditEntry, Volunteer
from gateway.partners.insurer import service as insurance
from gateway.services import own_view
from gateway.services import volunteers as volunteer_svc
from gateway.services.csv_rows import export_cell
from gateway.timeutil import utcnow
from schemas.api.me import (
    DonationMonthSchema,
    HistoryEntrySchema,
    MonthOfServiceSchema,
    OwnClaimSchema,
    OwnTrainingSchema,
    ProfileSchema,
    ViewTokenArgsSchema,
    ViewTokenSchema,
    YearArgsSchema,
)

blp = ApiBlueprint(
    "me", __name__, description="A volunteer's own records, read with a volunteer-scoped token."
)

SCOPE = [VOLUNTEER]


def _me() -> Volunteer:
    """The token's volunteer, with the read written to the audit log."""
    who = caller()
    v = db().get(Volunteer, who.volunteer_id)
    db().add(AuditEntry(at=utcnow(), token_id=who.token_id, token_name=who.name[:64], role=VOLUNTEER,
                        method=request.method, path=request.full_path.rstrip("?")[:1000],
                        fields_revealed="own-records", subjects=v.volunteer_no or v.provisional_no,
                        reason="the volunteer's own view"))  # fmt: skip
    return v


@blp.route(
    "/volunteers/<string(minlength=1, maxlength=16):number>/view-token", methods=["POST"], roles=["platform"]
)
@blp.arguments(ViewTokenArgsSchema, location="json")
@blp.response(201, ViewTokenSchema)
def issue_view_token(args: dict[str, Any], number: str) -> Any:
    """A short-lived token that reads only this volunteer's own records (for the volunteer's
    session on the platform); shown once."""
    v = volunteer_svc.get_volunteer(db(), number)
    minutes = max(1, min(int(args["minutes"]), int(volunteer_scope.MAX_LIFETIME.total_seconds() // 60)))
    row, token = volunteer_scope.issue(db(), v.id, caller().token_id, timedelta(minutes=minutes))
    return {"token": token, "expires_at": row.expires_at, "volunteer_no": v.volunteer_no or v.provisional_no}


@blp.route("/me", methods=["GET"], roles=SCOPE)
@blp.response(200, ProfileSchema)
def me() -> Any:
    """Status and number, total service hours, training time, each card and its functions."""
    p = own_view.profile(db(), _me())
    out = asdict(p)
    out["service_hours"] = round(p.service_minutes / 60, 1)
    return out


@blp.route("/me/sessions", methods=["GET"], roles=SCOPE)
@blp.arguments(YearArgsSchema, location="query")
@blp.response(200, MonthOfServiceSchema(many=True))
def my_sessions(args: dict[str, Any]) -> Any:
    """Service sessions by month, with place and activity."""
    return [asdict(m) for m in own_view.sessions_by_month(db(), _me(), args.get("year"))]


@blp.route("/me/training", methods=["GET"], roles=SCOPE)
@blp.response(200, OwnTrainingSchema(many=True))
def my_training() -> Any:
    """Training records."""
    return own_view.training(db(), _me())


@blp.route("/me/donations", methods=["GET"], roles=SCOPE)
@blp.response(200, DonationMonthSchema(many=True))
def my_donations() -> Any:
    """The donations made in the volunteer's name, month by month (十分关爱)."""
    return [asdict(m) for m in own_view.donations(db(), _me())]


@blp.route("/me/claims", methods=["GET"], roles=SCOPE)
@blp.response(200, OwnClaimSchema(many=True))
def my_claims() -> Any:
    """Insurance claims and where they stand (as last fetched from the insurer)."""
    v = _me()
    if v.volunteer_no is None:
        return []
    return [claim_answer(c) for c in insurance.stored_claims(db(), volunteer_no=v.volunteer_no)]


@blp.route("/me/history", methods=["GET"], roles=SCOPE)
@blp.response(200, HistoryEntrySchema(many=True))
def my_history() -> Any:
    """Every event of every card, oldest first: the history survives a reissue (信息恢复)."""
    return [asdict(h) for h in own_view.history(db(), _me())]


@blp.route("/me/export.csv", methods=["GET"], roles=SCOPE)
@blp.response(200, content_type="text/csv")
def my_export() -> Any:
    """The volunteer's own records as CSV: service sessions, training and donations."""
    v = _me()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["record", "when", "minutes", "what", "place", "fen"])
    for month in own_view.sessions_by_month(db(), v):
        for s in month.sessions:
            when = s.check_in.isoformat() if s.check_in else month.month
            w.writerow(["session", when, s.minutes, export_cell(s.activity or ""), s.place or "", ""])
    for t in own_view.training(db(), v):
        w.writerow(
            ["training", t.held_on.isoformat() if t.held_on else "", t.minutes, export_cell(t.course), "", ""]
        )
    for d in own_view.donations(db(), v):
        w.writerow(
            ["donation", d.period, "", f"{d.purchases} purchases, {d.reversals} reversals", "", d.donated_fen]
        )
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="my-records.csv"'})  # fmt: skip
