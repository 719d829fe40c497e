"""Who is calling and what they may do: bearer tokens, roles, the access policy of a view.

Every ``/api/`` request but the public documentation carries ``Authorization: Bearer
<token>`` (else 401), and the view's declared roles must include the token's role (else
403). A view without a declared policy is refused: access fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, request

from gateway.api import tokens
from gateway.api.problems import Problem
from gateway.api.unit import db

ROLES = ("platform", "operator", "auditor", "admin")
# Roles that may see PII in clear (with ?unmask=true and a reason). The auditor never does.
UNMASK_ROLES = frozenset({"platform", "operator"})
ANY_ROLE = frozenset(ROLES)
PUBLIC_ENDPOINTS = frozenset({"healthz", "readyz", "metrics", "api-docs.openapi_json", "api_docs_page"})


@dataclass(frozen=True)
class Caller:
    token_id: int
    name: str
    role: str


def caller() -> Caller:
    """The authenticated caller of this request (after ``check_access`` ran)."""
    return g.svcard_caller


def view_roles(app: Flask, endpoint: str | None) -> frozenset[str] | None:
    """The roles a view allows, or None when the view declares no policy."""
    view = app.view_functions.get(endpoint or "")
    return getattr(view, "_svcard_roles", None)


def is_public(endpoint: str | None) -> bool:
    view = current_app.view_functions.get(endpoint or "")
    return endpoint in PUBLIC_ENDPOINTS or bool(getattr(view, "_svcard_public", False))


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="svcard"'},
    )


def check_access() -> None:
    """before_request: authenticate, then authorize against the view's roles."""
    if not request.path.startswith("/api/") or is_public(request.endpoint):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("send Authorization: Bearer <token>")
    row = tokens.authenticate(db(), token.strip())
    if row is None:
        raise _unauthorized("the token is unknown or revoked")
    g.svcard_caller = Caller(token_id=row.id, name=row.name, role=row.role)
    if request.endpoint is None:
        return  # unknown path or method: routing answers 404/405 next
    roles = view_roles(current_app, request.endpoint)
    if roles is None:
        raise Problem(403, "forbidden", "Forbidden", "this route declares no access policy")
    if row.role not in roles:
        raise Problem(
            403,
            "forbidden",
            "Forbidden",
            f"role {row.role} may not use this route (allowed: {', '.join(sorted(roles))})",
        )
