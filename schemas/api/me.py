"""A volunteer's own view (信息查询) in the HTTP API: what the volunteer scope reads."""

from __future__ import annotations

from marshmallow import Schema, fields

from schemas.api.care import ClaimSchema


class ViewTokenArgsSchema(Schema):
    minutes = fields.Integer(load_default=30, metadata={"description": "lifetime, 1 to 120 minutes"})


class ViewTokenSchema(Schema):
    token = fields.String(
        required=True, metadata={"description": "shown once; hand it to the volunteer's session"}
    )
    expires_at = fields.DateTime(required=True)
    volunteer_no = fields.String(required=True)


class FunctionsSchema(Schema):
    TRANSIT = fields.String(required=True)
    HEALTH = fields.String(required=True)
    INSURANCE = fields.String(required=True)
    DONATION = fields.String(required=True)


class OwnCardSchema(Schema):
    card_id = fields.String(allow_none=True, required=True)
    state = fields.String(required=True)
    carrier = fields.String(required=True)
    branch_code = fields.String(required=True)
    expiry = fields.String(allow_none=True, required=True)
    functions = fields.Nested(FunctionsSchema, required=True)


class ProfileSchema(Schema):
    volunteer_no = fields.String(allow_none=True, required=True)
    name = fields.String(required=True, metadata={"description": "the volunteer's own name, in clear"})
    status = fields.String(required=True)
    official_since = fields.Date(allow_none=True, required=True)
    deregistered = fields.Boolean(required=True)
    service_minutes = fields.Integer(required=True)
    service_hours = fields.Float(required=True)
    training_minutes = fields.Integer(required=True)
    cards = fields.List(fields.Nested(OwnCardSchema), required=True)


class YearArgsSchema(Schema):
    year = fields.Integer(load_default=None, metadata={"description": "only this year (Beijing time)"})


class OwnSessionSchema(Schema):
    check_in = fields.DateTime(allow_none=True, required=True)
    check_out = fields.DateTime(allow_none=True, required=True)
    minutes = fields.Integer(required=True)
    activity = fields.String(allow_none=True, required=True)
    place = fields.String(
        allow_none=True, required=True, metadata={"description": "district, OUTSIDE or null"}
    )


class MonthOfServiceSchema(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM"})
    minutes = fields.Integer(required=True)
    sessions = fields.List(fields.Nested(OwnSessionSchema), required=True)


class OwnTrainingSchema(Schema):
    course = fields.String(required=True)
    minutes = fields.Integer(required=True)
    held_on = fields.Date(allow_none=True, required=True)


class DonationMonthSchema(Schema):
    period = fields.String(required=True, metadata={"description": "YYYYMM"})
    purchases = fields.Integer(required=True)
    reversals = fields.Integer(required=True)
    donated_fen = fields.Integer(required=True, metadata={"description": "十分关爱: 10 fen a purchase"})
    booked_fen = fields.Integer(required=True, metadata={"description": "what the fund booked"})


class HistoryEntrySchema(Schema):
    at = fields.DateTime(required=True)
    card_id = fields.String(allow_none=True, required=True)
    event = fields.String(required=True)
    from_state = fields.String(allow_none=True, required=True)
    to_state = fields.String(allow_none=True, required=True)


class OwnClaimSchema(ClaimSchema):
    pass
