"""Schemas shared by every API resource: problems, pagination, the conventional headers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

PROBLEM_BASE = "https://svcard.example/problems/"
# Idempotency keys: printable ASCII without spaces, as a client's UUID or request id.
IDEMPOTENCY_KEY = validate.Regexp(
    r"^[!-~]{1,100}$", error="must be 1-100 printable ASCII characters, no spaces"
)
MAX_LIMIT = 200


class ProblemSchema(Schema):
    """RFC 9457 problem details (``application/problem+json``)."""

    type = fields.String(required=True, metadata={"description": PROBLEM_BASE + "<code>, stable"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    code = fields.String(metadata={"description": "the <code> of type, for programs"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "validation errors: field name -> messages"},
    )
    field = fields.String(allow_none=True, metadata={"description": "the field a domain rule refused"})
    current_state = fields.String(metadata={"description": "lifecycle refusals: the state now"})
    event = fields.String(metadata={"description": "lifecycle refusals: the refused event"})
    allowed_events = fields.List(fields.String(), metadata={"description": "events the state allows"})


class PageArgsSchema(Schema):
    """Cursor pagination: pass ``next_cursor`` of one page as ``cursor`` of the next."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(validate=validate.Length(1, 500), metadata={"description": "opaque"})


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page of ``item``s: ``{"items": [...], "next_cursor": "..." | null}``."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(
                required=True, allow_none=True, metadata={"description": "null on the last page"}
            ),
        },
        name=name,
    )


class IdempotencyHeaderSchema(Schema):
    svcard_idempotency_key = fields.String(
        data_key="Idempotency-Key",
        required=True,
        validate=IDEMPOTENCY_KEY,
        metadata={"description": "a repeat with the same key and body returns the first answer"},
    )


class UnmaskQuerySchema(Schema):
    svcard_unmask = fields.Boolean(
        data_key="unmask",
        load_default=False,
        metadata={
            "description": "true to see PII in clear (roles platform, operator; needs X-Reason; audited)"
        },
    )


class ReasonHeaderSchema(Schema):
    svcard_reason = fields.String(
        data_key="X-Reason",
        validate=validate.Length(3, 200),
        metadata={"description": "why PII is unmasked; written to the audit log"},
    )
