"""Donations: a month's reconciliation with the fund (operators, auditors), and one
beneficiary's donations month by month (also the platform, to show volunteers theirs)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from gateway.api.blueprint import ApiBlueprint
from gateway.api.problems import Problem
from gateway.api.unit import db
from gateway.services import reconciliation as rec
from schemas.api.donations import ReportArgsSchema, ReportSchema, VolunteerDonationsSchema

blp = ApiBlueprint("donations", __name__, description="Per-swipe donations reconciled with the fund.")

READERS = ["operator", "auditor"]
PERIOD = "/donations/<string(length=None, minlength=1, maxlength=8):period>"
NUMBER = "/donations/volunteers/<string(length=None, minlength=1, maxlength=16):volunteer_no>"


@blp.route(PERIOD + "/report", methods=["GET"], roles=READERS)
@blp.arguments(ReportArgsSchema, location="query")
@blp.response(200, ReportSchema)
def report(args: dict[str, Any], period: str) -> Any:
    """The month's reconciliation (fund.md): classes with their totals, the beneficiaries
    outside MATCHED, BANK_DIFFERS, and the flagged SWIPE records behind them."""
    r = rec.report(db(), period, flagged_limit=args["flagged"])  # BadPeriod: a coded 422
    return {
        "period": r.period,
        "computed_fen": r.computed_fen,
        "booked_fen": r.booked_fen,
        "bank_fen": r.bank_fen,
        "missing_days": r.missing_days,
        "classes": list(r.classes.values()),
        "outside_matched": r.outside_matched,
        "bank_differs": [ln for ln in r.lines if ln.bank_differs],
        "flagged": [asdict(f) for f in r.flagged],
        "flagged_total": r.flagged_total,
    }


@blp.route(NUMBER, methods=["GET"], roles=["platform", "operator", "auditor"])
@blp.response(200, VolunteerDonationsSchema)
def volunteer(volunteer_no: str) -> Any:
    """One beneficiary's donations month by month: computed by SVA, the bank's figure, and
    what the fund booked."""
    if len(volunteer_no) != 10 or not volunteer_no.isdigit():
        raise Problem(422, "bad-volunteer-no", "Bad volunteer number", "10 digits", field="volunteer_no")
    months = rec.volunteer_months(db(), volunteer_no)
    return {
        "volunteer_no": volunteer_no,
        "months": [asdict(m) for m in months],
        "computed_fen": sum(m.computed_fen for m in months),
        "booked_fen": sum(m.booked_fen for m in months),
    }
