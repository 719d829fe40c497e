"""The programme's statistics: read from the monthly aggregates the statistics job keeps
(``jobs.statistics``), never from the sessions, so each answer is a few dozen rows at any
size. Figures only, no person: every staff role reads them."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response

from gateway.api.blueprint import ApiBlueprint
from gateway.api.unit import db
from gateway.domain.places import name_of
from gateway.models.statistics import StatCell, StatDimension
from gateway.services import statistics as svc
from gateway.services.csv_rows import export_cell
from gateway.timeutil import beijing_today
from schemas.api.statistics import CellArgsSchema, CellsSchema, StatisticsArgsSchema, YearSchema

blp = ApiBlueprint(
    "statistics",
    __name__,
    description="The programme's statistics per month: service hours, districts, organisations, "
    "new volunteers, cards collected.",
)

READERS = ["platform", "operator", "auditor"]
CSV_HEADER = ["table", "month", "key", "name", "service_hours", "sessions", "volunteers",
              "average_hours", "applied", "official", "cards_collected"]  # fmt: skip


def _year(args: dict[str, Any]) -> int:
    return args.get("year") or beijing_today().year


def _month_answer(m: svc.MonthFigures) -> dict[str, Any]:
    return {
        "month": f"{m.month:%Y-%m}",
        "service_hours": round(m.hours, 2),
        "sessions": m.sessions,
        "volunteers": m.volunteers,
        "average_hours": m.average_hours,
        "applied": m.applied,
        "official": m.official,
        "cards_collected": m.cards_collected,
        "computed_at": m.computed_at,
    }


def _cell_answer(c: StatCell) -> dict[str, Any]:
    district = c.dimension == StatDimension.DISTRICT
    return {
        "month": f"{c.month:%Y-%m}",
        "key": c.key or None,
        "name": name_of(c.key) if district and c.key else None,
        "service_hours": round(c.minutes / 60, 2),
        "sessions": c.sessions,
        "volunteers": c.volunteers,
    }


def _cells(dimension: str, args: dict[str, Any]) -> list[StatCell]:
    if args.get("month"):
        first = last = svc.parse_month(args["month"])
    else:
        first, last = svc.year_months(_year(args))
    return svc.cells(db(), dimension, first, last)


@blp.route("/statistics", methods=["GET"], roles=READERS)
@blp.arguments(StatisticsArgsSchema, location="query")
@blp.response(200, YearSchema)
def year_figures(args: dict[str, Any]) -> Any:
    """The year's twelve months: service hours, volunteers who served and their average
    hours (the trend), new volunteers, cards collected; each with when it was computed."""
    year = _year(args)
    return {"year": year, "months": [_month_answer(m) for m in svc.year(db(), year)]}


@blp.route("/statistics/districts", methods=["GET"], roles=READERS)
@blp.arguments(CellArgsSchema, location="query")
@blp.response(200, CellsSchema)
def by_district(args: dict[str, Any]) -> Any:
    """Service per district per month (the service map's colours, the share by district)."""
    return {
        "dimension": StatDimension.DISTRICT,
        "cells": [_cell_answer(c) for c in _cells(StatDimension.DISTRICT, args)],
    }


@blp.route("/statistics/organisations", methods=["GET"], roles=READERS)
@blp.arguments(CellArgsSchema, location="query")
@blp.response(200, CellsSchema)
def by_organisation(args: dict[str, Any]) -> Any:
    """Service per organisation (the check-in terminal's) per month."""
    cells = _cells(StatDimension.ORGANISATION, args)
    return {"dimension": StatDimension.ORGANISATION, "cells": [_cell_answer(c) for c in cells]}


@blp.route("/statistics/export.csv", methods=["GET"], roles=READERS)
@blp.arguments(StatisticsArgsSchema, location="query")
@blp.response(200, content_type="text/csv")
def export(args: dict[str, Any]) -> Any:
    """The year's statistics as one CSV: the months, then the district and organisation cells."""
    year = _year(args)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_HEADER)
    for m in svc.year(db(), year):
        a = _month_answer(m)
        w.writerow(["month", a["month"], "", "", a["service_hours"], m.sessions, m.volunteers,
                    "" if m.average_hours is None else m.average_hours, m.applied, m.official,
                    m.cards_collected])  # fmt: skip
    for dimension in svc.DIMENSIONS:
        for c in _cells(dimension, {"year": year}):
            a = _cell_answer(c)
            w.writerow([dimension, a["month"], export_cell(a["key"] or ""), a["name"] or "", a["service_hours"],
                        c.sessions, c.volunteers, "", "", "", ""])  # fmt: skip
    name = f"statistics-{year}.csv"
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
