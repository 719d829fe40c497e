"""Service statistics: the year's monthly average service hours per volunteer as a trend,
service by Shenzhen district as a bar chart and as a schematic tile map coloured by hours,
filtered by month and organisation (gateway.services.service_stats)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template, request
from flask_babel import gettext as _

from gateway.api.unit import db
from gateway.console.blueprint import bp
from gateway.console.forms import StatsFilter
from gateway.domain import places
from gateway.services import service_stats
from gateway.timeutil import beijing_today

# A schematic map, not a survey: each district one tile, placed as the city lies (west to
# east, north above south), 深汕 apart in the east. No boundary data is shipped (none with
# a clear licence); docs/decisions.md.
TILES = {
    "440311": (1, 0), "440309": (2, 0), "440307": (3, 0), "440310": (4, 0),
    "440306": (0, 1), "440305": (1, 1), "440304": (2, 1), "440303": (3, 1), "440308": (4, 1), "DAPENG": (5, 1),
    "SHENSHAN": (7, 0),
}  # fmt: skip


def _month_bounds(period: str) -> tuple[date, date]:
    first = date(int(period[:4]), int(period[4:]), 1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


@bp.route("/statistics")
def stats() -> tuple[str, int]:
    form = StatsFilter(request.args)
    valid = form.validate() if request.args else True
    today = beijing_today()
    year = (form.year.data if valid and form.year.data else None) or today.year
    period = form.period.data if valid and form.period.data else None
    if period:
        year = int(period[:4])
    organisation = (form.organisation.data or "").strip() or None if valid else None
    session = db()
    months = service_stats.monthly_average(session, year, organisation)
    first, last = _month_bounds(period) if period else (date(year, 1, 1), date(year, 12, 31))
    districts = service_stats.by_district(session, first, last, organisation)
    shenzhen = [d for d in districts if d.code != places.OUTSIDE]
    hours = {d.code: round(d.minutes / 60, 1) for d in districts}
    return render_template(
        "console/stats.html",
        form=form,
        year=year,
        period=period,
        months=months,
        districts=districts,
        organisations=service_stats.organisations(session),
        trend_chart={"labels": [m.period for m in months], "unit": _("hours"),
                     "series": [{"name": _("average service hours per volunteer"), "values": [m.average_hours for m in months]}]},
        district_chart={"labels": [d.name for d in shenzhen], "unit": _("hours"),
                        "series": [{"name": _("service hours"), "values": [hours[d.code] for d in shenzhen]}]},
        tile_chart={"tiles": [{"name": d.name, "x": TILES[d.code][0], "y": TILES[d.code][1], "value": hours[d.code]}
                              for d in shenzhen if d.code in TILES],
                    "width": 7, "height": 1, "max": max([hours[d.code] for d in shenzhen] or [0]), "unit": _("hours")},
    ), (200 if valid else 422)  # fmt: skip
