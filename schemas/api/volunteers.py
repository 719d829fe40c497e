"""Volunteer payloads of the HTTP API: the application, training, service sessions,
choices, photo, deregistration, and the volunteer as read back (PII masked unless
revealed; see ``schemas.api.pii``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.api.cards import CardRequestSchema, CardSummarySchema
from schemas.api.common import page_of
from schemas.api.pii import MASKED_DATE, Pii, PiiBytes

ID_TYPES = ("RIC", "HKMO", "TW", "PASSPORT", "FRP")
CARRIERS = ("DEBIT", "CREDIT")
# A JPEG of at least 295x413 is some kilobytes; 2 MB of base64 is plenty and bounds a request.
MAX_PHOTO_B64 = 2_800_000


def _text(max_len: int, **kw) -> fields.String:
    return fields.String(validate=validate.Length(1, max_len), **kw)


def _n(field: fields.Field) -> fields.Field:
    field.required = True
    return field


class ApplicationSchema(Schema):
    """A new application. The eligibility rules (ID number, age, mobiles, guardian under
    14, CREDIT from 18, branch open) answer 422 with every broken rule per field."""

    name = _text(30, required=True)
    id_type = fields.String(required=True, validate=validate.OneOf(ID_TYPES))
    id_number = _text(20, required=True)
    gender = fields.String(required=True, validate=validate.OneOf(("M", "F")))
    birth_date = fields.Date(required=True, metadata={"description": "ISO date, e.g. 2001-05-20"})
    mobile = _text(11, required=True)
    address = _text(100, required=True)
    emergency_name = _text(30, required=True)
    emergency_mobile = _text(11, required=True)
    guardian_name = _text(
        30, load_default=None, allow_none=True, metadata={"description": "required under 14"}
    )
    guardian_mobile = _text(11, load_default=None, allow_none=True)
    carrier = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CARRIERS))
    branch_code = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^\d{5}$"))
    opt_transit = fields.Boolean(load_default=False)
    opt_health = fields.Boolean(load_default=False)


class TrainingInSchema(Schema):
    course = _text(100, required=True)
    minutes = fields.Integer(required=True, validate=validate.Range(1, 1440))
    held_on = fields.Date(load_default=None, allow_none=True)


class TrainingSchema(Schema):
    id = fields.Integer(required=True)
    course = fields.String(required=True)
    minutes = fields.Integer(required=True)
    held_on = _n(fields.Date(allow_none=True))
    district = _n(
        fields.String(allow_none=True, metadata={"description": "recorded at a terminal: its place"})
    )
    terminal_id = _n(fields.String(allow_none=True))


class CheckInSchema(Schema):
    at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={"description": "default: now"})
    activity = _text(100, load_default=None, allow_none=True)


class CheckOutSchema(Schema):
    at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={"description": "default: now"})


class ServiceSessionSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(
        required=True, metadata={"description": "SESSION, or IMPORTED (a carried-over total)"}
    )
    activity = _n(fields.String(allow_none=True))
    check_in = _n(fields.DateTime(allow_none=True))
    check_out = _n(fields.DateTime(allow_none=True))
    minutes = fields.Integer(required=True)
    district = _n(
        fields.String(
            allow_none=True,
            metadata={"description": "a district's code, or OUTSIDE; null: recorded before places were kept"},
        )
    )
    district_name = _n(fields.String(allow_none=True))
    terminal_id = _n(fields.String(allow_none=True, metadata={"description": "the check-in's terminal"}))
    site = _n(fields.String(allow_none=True))


class ChoicesSchema(Schema):
    """Any of: opt-ins, carrier, branch (for the next order)."""

    opt_transit = fields.Boolean()
    opt_health = fields.Boolean()
    carrier = fields.String(validate=validate.OneOf(CARRIERS))
    branch_code = fields.String(validate=validate.Regexp(r"^\d{5}$"))


class PhotoInSchema(Schema):
    jpeg_base64 = fields.String(
        required=True,
        validate=validate.Length(1, MAX_PHOTO_B64),
        metadata={"description": "the JPEG, base64; at least 295x413 stored pixels", "format": "byte"},
    )


class PhotoSchema(Schema):
    volunteer_no = fields.String(required=True)
    jpeg_base64 = _n(PiiBytes(metadata={"description": "null unless unmasked"}))


class DeregisterSchema(Schema):
    at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={"description": "default: now"})
    reason = fields.String(load_default="", validate=validate.Length(0, 100))


class VolunteerSchema(Schema):
    number = fields.String(required=True, metadata={"description": "official number, else provisional"})
    volunteer_no = _n(fields.String(allow_none=True, metadata={"description": "10 digits, once approved"}))
    provisional_no = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "APPLICANT, OFFICIAL, DEREGISTERED"})
    name = Pii("name", required=True)
    id_type = fields.String(required=True)
    id_number = Pii("id_number", required=True)
    gender = fields.String(required=True)
    birth_date = Pii(
        "date",
        required=True,
        metadata={
            "description": "ISO date when unmasked, else " + MASKED_DATE,
            "pattern": r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|\*{4}-\*{2}-\*{2})$",
        },
    )
    mobile = Pii("mobile", required=True)
    address = Pii("address", required=True)
    emergency_name = Pii("name", required=True)
    emergency_mobile = Pii("mobile", required=True)
    guardian_name = _n(Pii("name", allow_none=True))
    guardian_mobile = _n(Pii("mobile", allow_none=True))
    has_photo = fields.Boolean(required=True)
    opt_transit = fields.Boolean(required=True)
    opt_health = fields.Boolean(required=True)
    carrier = _n(fields.String(allow_none=True))
    branch_code = _n(fields.String(allow_none=True))
    applied_at = fields.DateTime(required=True)
    official_since = _n(fields.Date(allow_none=True))
    deregistered_at = _n(fields.DateTime(allow_none=True))
    training_minutes = fields.Integer(required=True)
    service_minutes = fields.Integer(
        required=True, metadata={"description": "closed sessions and imported totals"}
    )
    service_hours = fields.Float(required=True, metadata={"description": "service_minutes / 60, 2 decimals"})


class VolunteerDetailSchema(VolunteerSchema):
    cards = fields.List(
        fields.Nested(CardSummarySchema), required=True, metadata={"description": "with functions"}
    )
    training = fields.List(fields.Nested(TrainingSchema), required=True)
    open_session = _n(fields.Nested(ServiceSessionSchema, allow_none=True))


class DeregistrationSchema(Schema):
    volunteer = fields.Nested(VolunteerSchema, required=True)
    cancel_requests = fields.List(fields.Nested(CardRequestSchema), required=True)


class VolunteerListArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(("APPLICANT", "OFFICIAL", "DEREGISTERED")))


VolunteerPageSchema = page_of(VolunteerSchema, "VolunteerPage")
