"""Who is calling and what they may do: bearer tokens, roles, the access policy of a view.

Every ``/api/`` request but the public documentation carries ``Authorization: Bearer
<token>`` (else 401), and the view's declared roles must include the token's role (else
403). A view without a declared policy is refused: access fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, request

from gateway.api import tokens, volunteer_scope
from gateway.api.problems import Problem
from gateway.api.unit import db
from gateway.db import transaction

ROLES = ("platform", "operator", "auditor", "admin")
# Roles that may see PII in clear (with ?unmask=true and a reason). The auditor never does.
UNMASK_ROLES = frozenset({"platform", "operator"})
ANY_ROLE = frozenset(ROLES)
PUBLIC_ENDPOINTS = frozenset({"healthz", "readyz", "metrics", "api-docs.openapi_json", "api_docs_page"})


#: The scope of a volunteer's own view (gateway.api.volunteer_scope): not a role of
#: ``api_tokens``, but what a view may allow beside them.
VOLUNTEER = "volunteer"
SCOPES = (*ROLES, VOLUNTEER)


@dataclass(frozen=True)
class Caller:
    token_id: int
    name: str
    role: str
    volunteer_id: int | None = None  # the volunteer scope: whose records it may read


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
    if token.strip().startswith(volunteer_scope.PREFIX):
        _volunteer_access(token.strip())
        return
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


def _volunteer_access(token: str) -> None:
    """A volunteer-scoped token: only the scope's views, else 404 (no enumeration); counted
    against its rate in a transaction of its own, so a refused request counts too."""
    row = volunteer_scope.authenticate(db(), token)
    if row is None:
        raise _unauthorized("the token is unknown, expired or revoked")
    g.svcard_caller = Caller(token_id=row.issued_by, name=f"volunteer-view:{row.id}", role=VOLUNTEER,
                             volunteer_id=row.volunteer_id)  # fmt: skip
    roles = view_roles(current_app, request.endpoint) if request.endpoint else None
    if roles is None or VOLUNTEER not in roles:
        raise Problem(404, "not-found", "Not Found", "no such resource")
    with transaction(current_app.extensions["svcard"].sessions) as session:
        wait = volunteer_scope.over_rate(session, row.id)
    if wait is not None:
        raise Problem(429, "too-many-requests", "Too Many Requests",
                      f"at most {volunteer_scope.RATE} requests a minute", headers={"Retry-After": str(wait)})  # fmt: skip
