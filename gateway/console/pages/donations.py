"""Donations (十分关爱): the month's reconciliation with the fund (MATCHED, SHORT, OVER,
MISSING, UNEXPECTED, and where the bank's figure differs) as a chart and a table, a
beneficiary's month day by day with its flagged swipes, the CSV export, and the donated
fen per month over the year."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Response, abort, render_template, request
from sqlalchemy import select

from gateway.api.unit import db
from gateway.console.blueprint import bp
from gateway.console.forms import MonthFilter
from gateway.domain import donations as rule
from gateway.models.donations import DonationDay
from gateway.services import reconciliation as rec
from gateway.timeutil import beijing_today

LINES = 50  # beneficiaries outside MATCHED shown on the page (the CSV has every one)


def _last_month() -> str:
    return f"{beijing_today().replace(day=1) - timedelta(days=1):%Y%m}"


@bp.route("/donations")
def donations() -> tuple[str, int]:
    form = MonthFilter(request.args, period=request.args.get("period") or _last_month())
    if not form.validate():
        return render_template("console/donations.html", form=form, report=None), 422
    period = form.period.data
    report = rec.report(db(), period, flagged_limit=50)
    year = int(period[:4])
    by_month = rec.donated_by_month(db(), year)
    classes = [c for c in report.classes.values()]
    return (
        render_template(
            "console/donations.html",
            form=form,
            report=report,
            period=period,
            classes=classes,
            class_chart={
                "labels": [c.klass for c in classes],
                "series": [{"name": "", "values": [c.count for c in classes]}],
            },
            year_chart={
                "labels": list(by_month),
                "series": [{"name": str(year), "values": [round(f / 100, 2) for f in by_month.values()]}],
                "unit": "¥",
            },  # fmt: skip
            outside=[ln for ln in report.lines if ln.klass != rule.MATCHED or ln.bank_differs][:LINES],
            year=year,
            by_month=by_month,
        ),
        200,
    )


@bp.route("/donations/<string(length=6):period>.csv")
def donations_csv(period: str) -> Response:
    try:
        report = rec.report(db(), period, flagged_limit=0)
    except rec.BadPeriod:
        abort(404)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rec.csv_rows(report))
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=donations-{period}.csv"})  # fmt: skip


@bp.route("/donations/<string(length=6):period>/<string(length=10):volunteer_no>")
def beneficiary(period: str, volunteer_no: str) -> tuple[str, int]:
    try:
        first, last = rec.month_bounds(period)
    except rec.BadPeriod:
        abort(404)
    days = (
        db()
        .scalars(
            select(DonationDay)
            .where(DonationDay.volunteer_no == volunteer_no, DonationDay.day.between(first, last))
            .order_by(DonationDay.day)
        )
        .all()
    )
    flagged, total = rec.flagged_swipes(db(), period, [volunteer_no], limit=100)
    return render_template(
        "console/beneficiary.html", period=period, volunteer_no=volunteer_no, days=days, flagged=flagged,
        flagged_total=total, first=first, last=last,
    ), 200  # fmt: skip
