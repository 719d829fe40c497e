"""Service statistics: the year's monthly average service hours per volunteer as a trend,
service by Shenzhen district as a bar chart and as a schematic tile map coloured by hours,
filtered by month and organisation. Read from the aggregates the statistics job keeps
(gateway.services.statistics), as the API's /api/statistics: never from the sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import render_template, request
from flask_babel import gettext as _

from gateway.api.unit import db
from gateway.console.blueprint import bp
from gateway.console.forms import StatsFilter
from gateway.domain import places
from gateway.models.statistics import StatDimension
from gateway.services import statistics
from gateway.timeutil import beijing_today

# A schematic map, not a survey: each district one tile, placed as the city lies (west to
# east, north above south), 深汕 apart in the east. No boundary data is shipped (none with
# a clear licence); docs/decisions.md.
TILES = {
    "440311": (1, 0), "440309": (2, 0), "440307": (3, 0), "440310": (4, 0),
    "440306": (0, 1), "440305": (1, 1), "440304": (2, 1), "440303": (3, 1), "440308": (4, 1), "DAPENG": (5, 1),
    "SHENSHAN": (7, 0),
}  # fmt: skip


@dataclass(frozen=True)
class MonthRow:
    period: str  # YYYYMM
    volunteers: int  # who served in the month (in the organisation's sessions, when filtered)
    minutes: int

    @property
    def average_hours(self) -> float:
        return round(self.minutes / 60 / self.volunteers, 2) if self.volunteers else 0.0


@dataclass(frozen=True)
class DistrictRow:
    code: str
    name: str
    sessions: int
    minutes: int


def _months(session, figures: list[statistics.MonthFigures], organisation: str | None) -> list[MonthRow]:  # noqa: ANN001
    """The year's months (``figures``: the programme's), or one organisation's."""
    if organisation is None:
        return [MonthRow(f"{m.month:%Y%m}", m.volunteers, m.minutes) for m in figures]
    first, last = figures[0].month, figures[-1].month
    kept = {
        c.month: c
        for c in statistics.cells(session, StatDimension.ORGANISATION, first, last, key=organisation)
    }
    out = []
    for m in figures:
        c = kept.get(m.month)
        out.append(MonthRow(f"{m.month:%Y%m}", c.volunteers if c else 0, c.minutes if c else 0))
    return out


def _districts(session, first: date, last: date, organisation: str | None) -> list[DistrictRow]:  # noqa: ANN001
    """Every district (zeros included), in the order of ``places.DISTRICTS``: the months'
    cells summed (hours and sessions add up across months; volunteers do not)."""
    if organisation is None:
        cells = [(c.key, c) for c in statistics.cells(session, StatDimension.DISTRICT, first, last)]
    else:
        found = statistics.cells(session, StatDimension.ORGANISATION_DISTRICT, first, last, key=organisation)
        cells = [(c.sub, c) for c in found]
    sums: dict[str, list[int]] = {}
    for code, c in cells:
        acc = sums.setdefault(code, [0, 0])
        acc[0] += c.sessions
        acc[1] += c.minutes
    return [DistrictRow(d.code, d.name, *sums.get(d.code, (0, 0))) for d in places.DISTRICTS]


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
    figures = statistics.year(session, year)
    months = _months(session, figures, organisation)
    if period:
        first = last = date(year, int(period[4:]), 1)
    else:
        first, last = statistics.year_months(year)
    districts = _districts(session, first, last, organisation)
    shenzhen = [d for d in districts if d.code != places.OUTSIDE]
    hours = {d.code: round(d.minutes / 60, 1) for d in districts}
    return render_template(
        "console/stats.html",
        form=form,
        year=year,
        period=period,
        months=months,
        districts=districts,
        organisations=statistics.organisations(session, *statistics.year_months(year)),
        computed_at=max((m.computed_at for m in figures if m.computed_at), default=None),
        trend_chart={"labels": [m.period for m in months], "unit": _("hours"),
                     "series": [{"name": _("average service hours per volunteer"), "values": [m.average_hours for m in months]}]},
        district_chart={"labels": [d.name for d in shenzhen], "unit": _("hours"),
                        "series": [{"name": _("service hours"), "values": [hours[d.code] for d in shenzhen]}]},
        tile_chart={"tiles": [{"name": d.name, "x": TILES[d.code][0], "y": TILES[d.code][1], "value": hours[d.code]}
                              for d in shenzhen if d.code in TILES],
                    "width": 7, "height": 1, "max": max([hours[d.code] for d in shenzhen] or [0]), "unit": _("hours")},
    ), (200 if valid else 422)  # fmt: skip
