"""Card, order, card-event and card-request payloads of the HTTP API.

Instants are ISO 8601 in UTC (``2026-11-28T09:30:00+00:00``); business dates are ISO
dates (``2026-11-28``), Beijing dates as the specs define them.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.api.common import page_of


def _n(field: fields.Field) -> fields.Field:
    """Mark a dumped field as always present (possibly null)."""
    field.required = True
    return field


class CardFunctionSchema(Schema):
    function = fields.String(required=True, metadata={"description": "TRANSIT, HEALTH, INSURANCE, DONATION"})
    state = fields.String(required=True, metadata={"description": "OFF, ON_DUE, ON, OFF_DUE"})
    reason = _n(fields.String(allow_none=True, metadata={"description": "why it went off"}))
    changed_at = fields.DateTime(required=True)


class CardSummarySchema(Schema):
    id = fields.Integer(required=True, metadata={"description": "the gateway's card id (path key)"})
    card_id = _n(fields.String(allow_none=True, metadata={"description": "the bank's token, once produced"}))
    masked_pan = _n(fields.String(allow_none=True))
    expiry = _n(fields.String(allow_none=True, metadata={"description": "YYYYMM"}))
    carrier = fields.String(required=True)
    branch_code = fields.String(required=True)
    state = fields.String(required=True)
    volunteer_no = fields.String(required=True, metadata={"description": "official or provisional number"})
    order_id = _n(fields.String(allow_none=True))
    loss_requested = fields.Boolean(required=True, metadata={"description": "a LOSS_REPORT awaits the bank"})
    notified_on = _n(fields.Date(allow_none=True))
    pickup_deadline = _n(fields.Date(allow_none=True))
    at_risk = fields.Boolean(required=True, metadata={"description": "within 30 days of its pickup deadline"})
    functions = fields.List(fields.Nested(CardFunctionSchema), required=True)


class OrderSchema(Schema):
    order_id = fields.String(required=True)
    order_type = fields.String(required=True, metadata={"description": "NEW or RENEW"})
    status = fields.String(
        required=True, metadata={"description": "PENDING, SENT, ACKED, RECORD_ERROR, CLOSED"}
    )
    volunteer_no = fields.String(required=True)
    carrier = fields.String(required=True)
    branch_code = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    sent_at = _n(fields.DateTime(allow_none=True))
    day0 = _n(fields.Date(allow_none=True))
    produced_due = _n(fields.Date(allow_none=True))
    notified_due = _n(fields.Date(allow_none=True))
    due_provisional = fields.Boolean(
        required=True, metadata={"description": "a due date in a year not loaded"}
    )
    produced_on = _n(fields.Date(allow_none=True))
    notified_on = _n(fields.Date(allow_none=True))
    reject_code = _n(fields.String(allow_none=True))
    reject_text = _n(fields.String(allow_none=True))
    closed_at = _n(fields.DateTime(allow_none=True))


class CardEventSchema(Schema):
    id = fields.Integer(required=True)
    event = fields.String(required=True)
    event_time = fields.DateTime(required=True)
    event_date = fields.Date(required=True, metadata={"description": "Beijing business date"})
    applied_at = fields.DateTime(required=True)
    from_state = _n(fields.String(allow_none=True))
    to_state = _n(fields.String(allow_none=True))
    source_file = _n(fields.String(allow_none=True))
    source_line = _n(fields.Integer(allow_none=True))
    request_id = _n(fields.String(allow_none=True))
    actor = fields.String(required=True)
    inferred = fields.Boolean(
        required=True, metadata={"description": "proved by a later event, not yet sent"}
    )
    completes_id = _n(fields.Integer(allow_none=True))
    bank_event_id = _n(fields.String(allow_none=True))
    payload = fields.Dict(required=True)


class CardDetailSchema(CardSummarySchema):
    order = _n(fields.Nested(OrderSchema, allow_none=True))
    replaces_id = _n(fields.Integer(allow_none=True))
    replaced_by_id = _n(fields.Integer(allow_none=True))
    collected_at = _n(fields.DateTime(allow_none=True))
    dead_at = _n(fields.DateTime(allow_none=True))
    allowed_events = fields.List(
        fields.String(), required=True, metadata={"description": "events its state allows"}
    )
    events = fields.List(
        fields.Nested(CardEventSchema), required=True, metadata={"description": "oldest first"}
    )


class CardRequestSchema(Schema):
    request_id = fields.String(required=True)
    request_type = fields.String(required=True, metadata={"description": "LOSS_REPORT or CANCEL_ORDER"})
    card_id = _n(fields.String(allow_none=True))
    order_id = _n(fields.String(allow_none=True))
    volunteer_no = fields.String(required=True)
    request_time = fields.DateTime(required=True)
    reason = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"description": "PENDING, SENT, CLOSED, TOO_LATE, WITHDRAWN"}
    )


class OverdueOrderSchema(Schema):
    order = fields.Nested(OrderSchema, required=True)
    milestone = fields.String(
        required=True, metadata={"description": "PRODUCED or NOTIFIED: the result awaited"}
    )
    due = fields.Date(required=True)
    late = fields.Boolean(required=True, metadata={"description": "false: due within the next working days"})
    card_state = fields.String(required=True, metadata={"description": "the state of the order's card"})


class CardListArgsSchema(Schema):
    state = fields.String(
        validate=validate.Length(1, 16), metadata={"description": "a card state, e.g. NOTIFIED"}
    )
    volunteer_no = fields.String(validate=validate.Length(1, 16))
    card_id = fields.String(validate=validate.Length(1, 16), metadata={"description": "the bank's token"})


class OverdueArgsSchema(Schema):
    due_within = fields.Integer(
        load_default=0,
        validate=validate.Range(0, 10),
        metadata={"description": "also list orders due within this many working days (0: late only)"},
    )


class LossReportSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(0, 100))


class CancelOrderSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(0, 100))


class CancelOrderResultSchema(Schema):
    order = fields.Nested(OrderSchema, required=True)
    request = _n(
        fields.Nested(
            CardRequestSchema, allow_none=True, metadata={"description": "null: withdrawn before it was sent"}
        )
    )


CardPageSchema = page_of(CardSummarySchema, "CardPage")
OverdueOrderPageSchema = page_of(OverdueOrderSchema, "OverdueOrderPage")
