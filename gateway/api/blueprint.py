"""``ApiBlueprint``: a flask-smorest Blueprint whose ``route`` makes the conventions hard
to forget.

``route(rule, methods=[M], roles=[...], pii=False)`` requires the roles (the access policy
checked before the view runs, documented as ``x-roles`` and a bearer requirement, with 401
and 403 answers); on a POST it adds the required ``Idempotency-Key`` header; with
``pii=True`` it adds ``?unmask=true`` and ``X-Reason`` and dumps PII in clear only for a
role that may see it, writing one audit entry per unmasked read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from copy import deepcopy
from functools import wraps
from typing import Any

import flask_smorest
from flask import request

from gateway.api.auth import SCOPES, UNMASK_ROLES, VOLUNTEER, caller
from gateway.api.body import BodyParser
from gateway.api.problems import Problem
from gateway.api.unit import db
from gateway.models.api import AuditEntry
from gateway.timeutil import utcnow
from schemas.api.common import IdempotencyHeaderSchema, ReasonHeaderSchema, UnmaskQuerySchema
from schemas.api.pii import reveal


def _pop_kwargs(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for name in names:
                kwargs.pop(name, None)
            return func(*args, **kwargs)

        return wrapper

    return decorator


def _pii_scope(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run the view (and its answer's dump) masked, or revealed and audited."""

    @wraps(func)
    def wrapper(
        *args: Any, svcard_unmask: bool = False, svcard_reason: str | None = None, **kwargs: Any
    ) -> Any:
        if not svcard_unmask:
            return func(*args, **kwargs)
        who = caller()
        if who.role not in UNMASK_ROLES:
            raise Problem(
                403,
                "unmask-forbidden",
                "Unmasking not allowed",
                f"role {who.role} never sees PII in clear",
                field="unmask",
            )
        if not svcard_reason:
            raise Problem(
                422,
                "validation-error",
                "The request is not valid",
                "X-Reason: required with unmask=true",
                errors={"X-Reason": ["required with unmask=true"]},
            )
        with reveal() as seen:
            result = func(*args, **kwargs)
        if seen.fields:
            db().add(
                AuditEntry(
                    at=utcnow(),
                    token_id=who.token_id,
                    token_name=who.name,
                    role=who.role,
                    method=request.method,
                    path=request.full_path.rstrip("?")[:1000],
                    fields_revealed=",".join(sorted(seen.fields)),
                    subjects=",".join(sorted(seen.subjects)),
                    reason=svcard_reason,
                )
            )
        return result

    return wrapper


class ApiBlueprint(flask_smorest.Blueprint):
    """Blueprint of one API resource; see the module docstring."""

    # Every JSON body is parsed in one place (gateway.api.body), malformed ones refused there.
    ARGUMENTS_PARSER = BodyParser()

    def route(
        self,
        rule: str,
        *,
        roles: Iterable[str],
        pii: bool = False,  # type: ignore[override]
        parameters: list | None = None,
        tags: list | None = None,
        **options: Any,
    ) -> Callable:
        allowed = frozenset(roles)
        unknown = allowed - set(SCOPES)
        if not allowed or unknown:
            raise ValueError(f"{rule}: roles must be a non-empty subset of {SCOPES}, not {sorted(unknown)}")
        methods = [m.upper() for m in options.get("methods", ["GET"])]
        if len(methods) != 1:
            raise ValueError(f"{rule}: one method per view, so each has its own roles")
        options["methods"] = methods

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            view = func
            if pii:
                view = _pii_scope(view)
                view = self.arguments(ReasonHeaderSchema, location="headers", as_kwargs=True)(view)
                view = self.arguments(UnmaskQuerySchema, location="query", as_kwargs=True)(view)
            if methods == ["POST"]:
                view = _pop_kwargs("svcard_idempotency_key")(view)
                view = self.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)(view)

            @wraps(view)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                return view(*args, **kwargs)

            guarded._svcard_roles = allowed  # type: ignore[attr-defined]
            guarded.__doc__ = (func.__doc__ or "").rstrip() + "\n\nRoles: " + ", ".join(sorted(allowed)) + "."
            doc = deepcopy(getattr(guarded, "_apidoc", {}))
            responses = doc.setdefault("response", {}).setdefault("responses", {})
            responses.setdefault(401, []).append("UNAUTHORIZED")
            responses.setdefault(403, []).append("FORBIDDEN")
            if VOLUNTEER in allowed:  # the volunteer scope: rate-limited (gateway.api.volunteer_scope)
                responses.setdefault(429, []).append("TOO_MANY_REQUESTS")
            manual = doc.setdefault("manual_doc", {})
            manual["security"] = [{"bearerAuth": []}]
            manual["x-roles"] = sorted(allowed)
            guarded._apidoc = doc  # type: ignore[attr-defined]
            flask_smorest.Blueprint.route(self, rule, parameters=parameters, tags=tags, **options)(guarded)
            return func

        return decorator
