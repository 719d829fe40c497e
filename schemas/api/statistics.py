"""The programme's statistics in the HTTP API (gateway.services.statistics): per month,
the average service hours per volunteer who served, hours and volunteers per district
and per organisation, new volunteers and cards collected."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="a month as YYYY-MM (2026-11)")


class StatisticsArgsSchema(Schema):
    year = fields.Integer(
        load_default=None,
        validate=validate.Range(2000, 2100),
        metadata={"description": "the year (Beijing time); default this year"},
    )


class CellArgsSchema(StatisticsArgsSchema):
    month = fields.String(
        load_default=None,
        validate=MONTH,
        metadata={"description": "only this month (YYYY-MM); else the year's"},
    )


class MonthFiguresSchema(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM"})
    service_hours = fields.Float(required=True)
    sessions = fields.Integer(required=True)
    volunteers = fields.Integer(required=True, metadata={"description": "distinct volunteers who served"})
    average_hours = fields.Float(
        allow_none=True, required=True, metadata={"description": "service hours per volunteer who served"}
    )
    applied = fields.Integer(required=True, metadata={"description": "volunteers who applied"})
    official = fields.Integer(required=True, metadata={"description": "volunteers who became official"})
    cards_collected = fields.Integer(required=True)
    computed_at = fields.DateTime(
        allow_none=True, required=True, metadata={"description": "when the job last computed it; null: never"}
    )


class YearSchema(Schema):
    year = fields.Integer(required=True)
    months = fields.List(fields.Nested(MonthFiguresSchema), required=True)


class CellSchema(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM"})
    key = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "the district's code or the organisation; null: not recorded"},
    )
    name = fields.String(allow_none=True, required=True, metadata={"description": "the district's name"})
    service_hours = fields.Float(required=True)
    sessions = fields.Integer(required=True)
    volunteers = fields.Integer(required=True, metadata={"description": "distinct volunteers in the month"})


class CellsSchema(Schema):
    dimension = fields.String(required=True)
    cells = fields.List(fields.Nested(CellSchema), required=True)
