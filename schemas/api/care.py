"""Insurance claims and health-card requests in the HTTP API. Money is integer fen."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.api.common import page_of
from schemas.api.pii import Pii


def _n(field: fields.Field) -> fields.Field:
    field.required = True
    return field


class CodeReasonSchema(Schema):
    code = fields.String(required=True)
    reason = fields.String(required=True)


class ClaimSchema(Schema):
    """A claim as the insurer states it, with SVA's verdict (the cover rules)."""

    claim_no = fields.String(required=True)
    volunteer_no = fields.String(required=True)
    incident_time = fields.DateTime(required=True)
    category = fields.String(required=True)
    disability_grade = _n(fields.Integer(allow_none=True))
    claimed_fen = fields.Integer(required=True)
    approved_fen = _n(fields.Integer(allow_none=True))
    paid_fen = _n(fields.Integer(allow_none=True))
    status = fields.String(required=True)
    status_time = fields.DateTime(required=True)
    reject_reason = _n(fields.String(allow_none=True))
    covered = _n(fields.Boolean(allow_none=True, metadata={"description": "null: not yet checked"}))
    allowed_fen = _n(fields.Integer(allow_none=True, metadata={"description": "what the cover rules allow"}))
    flagged = fields.Boolean(required=True)
    flags = fields.List(fields.Nested(CodeReasonSchema), required=True)
    notes = fields.List(fields.Nested(CodeReasonSchema), required=True)


class ClaimListSchema(Schema):
    volunteer_no = _n(fields.String(allow_none=True))
    claims = fields.List(
        fields.Nested(ClaimSchema), required=True, metadata={"description": "oldest incident first"}
    )


class ClaimArgsSchema(Schema):
    refresh = fields.Boolean(
        load_default=False,
        metadata={"description": "ask the insurer first (else the claims stored by the sweeps)"},
    )


class HealthRequestSchema(Schema):
    request_id = fields.String(required=True)
    action = fields.String(required=True, metadata={"description": "ENROL or SUSPEND"})
    card_id = fields.String(required=True)
    volunteer_no = fields.String(required=True)
    reason = fields.String(required=True)
    health_card_no = _n(Pii("id_number", allow_none=True))
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    next_attempt_at = _n(fields.DateTime(allow_none=True))
    last_error = _n(fields.String(allow_none=True))
    reason_code = _n(fields.String(allow_none=True))
    created_at = fields.DateTime(required=True)
    last_sent_at = _n(fields.DateTime(allow_none=True))


class HealthRequestArgsSchema(Schema):
    which = fields.String(
        load_default="pending",
        validate=validate.OneOf(("pending", "needs-operator")),
        metadata={"description": "pending: still being sent; needs-operator: failed, not yet raised again"},
    )


ClaimPageSchema = page_of(ClaimSchema, "ClaimPage")
HealthRequestPageSchema = page_of(HealthRequestSchema, "HealthRequestPage")
