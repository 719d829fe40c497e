"""Exchange payloads of the HTTP API: files in and out with their ACKs and record errors,
partner cycles (jobs) and replays."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.api.common import page_of

DIRECTIONS = ("in", "out")


def _n(field: fields.Field) -> fields.Field:
    field.required = True
    return field


class RecordErrorSchema(Schema):
    line = fields.Integer(required=True)
    field = fields.String(required=True)
    reason = fields.String(required=True)


class ExchangeFileSchema(Schema):
    id = fields.Integer(required=True)
    partner = fields.String(required=True)
    direction = fields.String(required=True, metadata={"enum": list(DIRECTIONS)})
    file_type = _n(fields.String(allow_none=True))
    name = fields.String(required=True)
    business_date = _n(fields.Date(allow_none=True))
    seq = _n(fields.Integer(allow_none=True))
    size = _n(fields.Integer(allow_none=True))
    sha256 = _n(fields.String(allow_none=True))
    status = fields.String(
        required=True,
        metadata={"description": "out: prepared, sent, accepted, partial, rejected; "
                  "in: received, processed, partial, rejected, duplicate, held"},
    )  # fmt: skip
    record_count = _n(fields.Integer(allow_none=True))
    ack_status = _n(
        fields.String(allow_none=True, metadata={"description": "in: our ACK; out: the partner's"})
    )
    ack_code = _n(fields.String(allow_none=True))
    ack_text = _n(fields.String(allow_none=True))
    ack_file_id = _n(fields.Integer(allow_none=True))
    duplicate_of_id = _n(fields.Integer(allow_none=True))
    detail = _n(fields.String(allow_none=True, metadata={"description": "why held or rejected"}))
    comment = _n(fields.String(allow_none=True, metadata={"description": "operators' replay comments"}))
    created_at = fields.DateTime(required=True)
    sent_at = _n(fields.DateTime(allow_none=True))
    applied_at = _n(fields.DateTime(allow_none=True))


class ExchangeFileDetailSchema(ExchangeFileSchema):
    record_errors = fields.List(fields.Nested(RecordErrorSchema), required=True)


class FileListArgsSchema(Schema):
    partner = fields.String(validate=validate.Length(1, 8))
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    file_type = fields.String(validate=validate.Length(1, 16))
    status = fields.String(validate=validate.Length(1, 12))


class CycleSchema(Schema):
    business_date = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "default: today (Beijing)"}
    )


class JobSchema(Schema):
    id = fields.String(required=True)
    func = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"description": "queued (RQ), finished or failed (inline)"}
    )
    mode = fields.String(required=True, metadata={"description": "rq, or inline when no Redis is configured"})
    error = _n(fields.String(allow_none=True))
    report = _n(fields.List(fields.String(), allow_none=True, metadata={"description": "inline: what moved"}))


class ReplaySchema(Schema):
    comment = fields.String(required=True, validate=validate.Length(1, 500), metadata={"description": "why"})


class ReplayResultSchema(Schema):
    outcome = fields.String(required=True, metadata={"description": "the file's status after the replay"})
    file = fields.Nested(ExchangeFileDetailSchema, required=True)


ExchangeFilePageSchema = page_of(ExchangeFileSchema, "ExchangeFilePage")
