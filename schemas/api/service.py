"""Service recorded where it happens, in the HTTP API: a check-in, check-out or training
swiped at a POS terminal (or sent by the platform with the district), and who is serving
now for the service map."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.api.pii import Pii
from schemas.api.terminals import DISTRICT_DOC, TERMINAL_ID


def _n(field: fields.Field) -> fields.Field:
    field.required = True
    return field


def _text(max_len: int, **kw) -> fields.String:
    return fields.String(validate=validate.Length(1, max_len), **kw)


class SwipeSchema(Schema):
    """Who (the card's ``card_id`` or the volunteer number: one of them), when, where."""

    card_id = _text(16, load_default=None, allow_none=True, metadata={"description": "the card swiped"})
    volunteer_no = _text(
        16, load_default=None, allow_none=True, metadata={"description": "official or provisional number"}
    )
    terminal_id = fields.String(load_default=None, allow_none=True, validate=TERMINAL_ID)
    at = fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"description": "the swipe's instant; default: now"}
    )


class PlacedSwipeSchema(SwipeSchema):
    district = _text(
        20,
        load_default=None,
        allow_none=True,
        metadata={"description": DISTRICT_DOC + "; default: the terminal's; one of the two is required"},
    )
    site = _text(100, load_default=None, allow_none=True, metadata={"description": "default: the terminal's"})


class CheckInSwipeSchema(PlacedSwipeSchema):
    activity = _text(100, load_default=None, allow_none=True)


class CheckOutSwipeSchema(SwipeSchema):
    """The session keeps the place of its check-in."""


class TrainingSwipeSchema(PlacedSwipeSchema):
    course = _text(100, required=True)
    minutes = fields.Integer(required=True, validate=validate.Range(1, 1440))


class ServingArgsSchema(Schema):
    district = _text(20, metadata={"description": "only this district: " + DISTRICT_DOC})
    names = fields.Boolean(
        load_default=False,
        metadata={
            "description": "list who is serving (roles platform, operator; names masked unless unmasked)"
        },
    )


class SiteServingSchema(Schema):
    site = _n(fields.String(allow_none=True))
    serving = fields.Integer(required=True)


class DistrictServingSchema(Schema):
    district = _n(fields.String(allow_none=True, metadata={"description": "null: sessions without a place"}))
    district_name = _n(fields.String(allow_none=True))
    serving = fields.Integer(required=True)
    sites = fields.List(fields.Nested(SiteServingSchema), required=True)


class ServingVolunteerSchema(Schema):
    volunteer_no = fields.String(required=True, metadata={"description": "official, else provisional number"})
    name = Pii("name", required=True)
    district = _n(fields.String(allow_none=True))
    site = _n(fields.String(allow_none=True))
    terminal_id = _n(fields.String(allow_none=True))
    activity = _n(fields.String(allow_none=True))
    check_in = fields.DateTime(required=True)


class ServingNowSchema(Schema):
    at = fields.DateTime(required=True)
    serving = fields.Integer(required=True, metadata={"description": "open sessions begun within a day"})
    districts = fields.List(fields.Nested(DistrictServingSchema), required=True)
    volunteers = _n(
        fields.List(
            fields.Nested(ServingVolunteerSchema),
            allow_none=True,
            metadata={"description": "null unless names=true"},
        )
    )
