"""The API's own resources: who am I, tokens (admin), the audit log (auditor)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import select

from gateway.api import tokens
from gateway.api.auth import ANY_ROLE, caller
from gateway.api.blueprint import ApiBlueprint
from gateway.api.pagination import page_query
from gateway.api.problems import Problem
from gateway.api.unit import db
from gateway.models.api import ApiToken, AuditEntry
from schemas.api.admin import AuditPageSchema, TokenPageSchema, TokenSchema, WhoAmISchema
from schemas.api.common import PageArgsSchema

blp = ApiBlueprint(
    "meta", __name__, description="The caller, API tokens and the audit log of unmasked reads."
)


@blp.route("/whoami", methods=["GET"], roles=ANY_ROLE)
@blp.response(200, WhoAmISchema)
def whoami() -> Any:
    """The token making this request."""
    return caller()


@blp.route("/tokens", methods=["GET"], roles=["admin"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, TokenPageSchema)
def list_tokens(args: dict[str, Any]) -> Any:
    """API tokens (never the tokens themselves: only their hashes are stored)."""
    return page_query(db(), select(ApiToken), [ApiToken.id], args, lambda t: [t.id])


@blp.route("/tokens/<int(max=2147483647):token_id>/revoke", methods=["POST"], roles=["admin"])
@blp.response(200, TokenSchema)
def revoke_token(token_id: int) -> Any:
    """Revoke a token now; revoking it again changes nothing."""
    try:
        return tokens.revoke_token(db(), str(token_id))
    except tokens.TokenError as exc:
        raise Problem(404, "not-found", "Not Found", str(exc)) from None


@blp.route("/audit-log", methods=["GET"], roles=["auditor"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, AuditPageSchema)
def audit_log(args: dict[str, Any]) -> Any:
    """Every read that showed PII in clear, oldest first: who, what, when, why."""
    page = page_query(db(), select(AuditEntry), [AuditEntry.id], args, lambda e: [e.id])
    page["items"] = [_entry(e) for e in page["items"]]
    return page


def _entry(e: AuditEntry) -> dict[str, Any]:
    at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return {
        "id": e.id,
        "at": at,
        "token_id": e.token_id,
        "token_name": e.token_name,
        "role": e.role,
        "method": e.method,
        "path": e.path,
        "reason": e.reason,
        "fields_revealed": [f for f in e.fields_revealed.split(",") if f],
        "subjects": [s for s in e.subjects.split(",") if s],
    }
