"""Donation payloads of the HTTP API: a month's reconciliation with the fund, and one
beneficiary's donations month by month (fund.md "Reconciliation")."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

CLASSES = ("UNEXPECTED", "MISSING", "MATCHED", "SHORT", "OVER")


class ReportArgsSchema(Schema):
    flagged = fields.Integer(
        load_default=100,
        validate=validate.Range(min=0, max=1000),
        metadata={"description": "How many flagged SWIPE records to list (the total is always given)."},
    )


class ClassTotalSchema(Schema):
    klass = fields.String(required=True, data_key="class", metadata={"enum": list(CLASSES)})
    count = fields.Integer(required=True)
    computed_fen = fields.Integer(required=True)
    booked_fen = fields.Integer(required=True)


class LineSchema(Schema):
    volunteer_no = fields.String(
        required=True, metadata={"description": "10 digits; 0000000000 is the campaign"}
    )
    klass = fields.String(required=True, data_key="class", metadata={"enum": list(CLASSES)})
    computed_fen = fields.Integer(required=True)
    bank_fen = fields.Integer(required=True)
    booked_fen = fields.Integer(required=True)
    bank_differs = fields.Boolean(required=True)


class FlaggedSwipeSchema(Schema):
    txn_id = fields.String(required=True)
    day = fields.Date(required=True)
    beneficiary = fields.String(required=True)
    volunteer_no = fields.String(required=True)
    txn_type = fields.String(required=True)
    fen = fields.Integer(required=True)
    bank_fen = fields.Integer(required=True)
    flags = fields.List(fields.String(), required=True)


class ReportSchema(Schema):
    period = fields.String(required=True)
    computed_fen = fields.Integer(required=True)
    booked_fen = fields.Integer(required=True)
    bank_fen = fields.Integer(required=True)
    missing_days = fields.List(
        fields.Date(), required=True, metadata={"description": "days without an applied SWIPE file"}
    )
    classes = fields.List(fields.Nested(ClassTotalSchema), required=True)
    outside_matched = fields.List(fields.Nested(LineSchema), required=True)
    bank_differs = fields.List(fields.Nested(LineSchema), required=True)
    flagged = fields.List(fields.Nested(FlaggedSwipeSchema), required=True)
    flagged_total = fields.Integer(required=True)


class MonthSchema(Schema):
    period = fields.String(required=True)
    purchases = fields.Integer(required=True)
    reversals = fields.Integer(required=True)
    computed_fen = fields.Integer(required=True)
    bank_fen = fields.Integer(required=True)
    booked_fen = fields.Integer(required=True)


class VolunteerDonationsSchema(Schema):
    volunteer_no = fields.String(required=True)
    months = fields.List(fields.Nested(MonthSchema), required=True)
    computed_fen = fields.Integer(required=True)
    booked_fen = fields.Integer(required=True)
