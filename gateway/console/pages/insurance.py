"""Insurance: the claims that fail SVA's cover check with the rule that flagged them, per
volunteer and per month, and the daily roster uploads with the insurer's answers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from gateway.api.unit import db
from gateway.console.blueprint import bp
from gateway.console.forms import period_problem
from gateway.models.exchange import ExchangeFile
from gateway.models.insurance import InsuranceClaim
from gateway.partners.insurer import PARTNER as INSURER
from gateway.partners.insurer.roster import FILE_TYPE as ROSTER
from gateway.timeutil import BEIJING, beijing_today

PAGE = 25


def _month_range(period: str) -> tuple[datetime, datetime]:
    year, month = int(period[:4]), int(period[4:])
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=BEIJING), datetime(*nxt, 1, tzinfo=BEIJING)


@bp.route("/insurance")
def insurance() -> tuple[str, int]:
    errors: dict[str, str] = {}
    volunteer_no = request.args.get("volunteer_no", "").strip()
    period = request.args.get("period", "").strip()
    if volunteer_no and not (len(volunteer_no) == 10 and volunteer_no.isdigit()):
        errors["volunteer_no"] = _("A volunteer number is 10 digits.")
    if period and period_problem(period):
        errors["period"] = period_problem(period) or ""
    claims: list[InsuranceClaim] = []
    if not errors:
        stmt = select(InsuranceClaim).where(InsuranceClaim.flagged.is_(True))
        if volunteer_no:
            stmt = stmt.where(InsuranceClaim.volunteer_no == volunteer_no)
        if period:
            lo, hi = _month_range(period)
            stmt = stmt.where(InsuranceClaim.incident_time >= lo, InsuranceClaim.incident_time < hi)
        claims = list(db().scalars(stmt.order_by(InsuranceClaim.incident_time.desc()).limit(PAGE)))
    # The year's flagged claims per month and rule: their incident times and flags only.
    year = int(period[:4]) if period and not errors else beijing_today().year
    lo, hi = datetime(year, 1, 1, tzinfo=BEIJING), datetime(year + 1, 1, 1, tzinfo=BEIJING)
    per: Counter[tuple[str, str]] = Counter()
    for at, flags in db().execute(
        select(InsuranceClaim.incident_time, InsuranceClaim.flags).where(
            InsuranceClaim.flagged.is_(True),
            InsuranceClaim.incident_time >= lo,
            InsuranceClaim.incident_time < hi,
        )
    ):
        for flag in flags or []:
            per[(f"{at.astimezone(BEIJING):%Y%m}", flag.get("code", "?"))] += 1
    months = [f"{year}{m:02d}" for m in range(1, 13)]
    rules = sorted({rule for _m, rule in per})
    chart = {"labels": months, "stacked": True,
             "series": [{"name": rule, "values": [per[(m, rule)] for m in months]} for rule in rules]}  # fmt: skip
    rosters = (
        db()
        .scalars(
            select(ExchangeFile)
            .where(ExchangeFile.partner == INSURER.id, ExchangeFile.file_type == ROSTER)
            .order_by(ExchangeFile.id.desc())
            .limit(10)
        )
        .all()
    )
    return render_template(
        "console/insurance.html", claims=claims, chart=chart, rosters=rosters, errors=errors,
        volunteer_no=volunteer_no, period=period, year=year,
    ), (422 if errors else 200)  # fmt: skip
