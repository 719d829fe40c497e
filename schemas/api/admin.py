"""Schemas of the API's own resources: the caller, tokens, the audit log."""

from __future__ import annotations

from marshmallow import Schema, fields

from schemas.api.common import page_of

ROLES = ("platform", "operator", "auditor", "admin")


class WhoAmISchema(Schema):
    token_id = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": list(ROLES)})


class TokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": list(ROLES)})
    created_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True, required=True)


class AuditEntrySchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True, metadata={"description": "UTC"})
    token_id = fields.Integer(required=True)
    token_name = fields.String(required=True)
    role = fields.String(required=True)
    method = fields.String(required=True)
    path = fields.String(required=True, metadata={"description": "path and query string read"})
    fields_revealed = fields.List(fields.String(), required=True)
    subjects = fields.List(fields.String(), required=True, metadata={"description": "volunteer numbers"})
    reason = fields.String(required=True)


TokenPageSchema = page_of(TokenSchema, "TokenPage")
AuditPageSchema = page_of(AuditEntrySchema, "AuditPage")
