"""The flask-smorest ``Api`` with the gateway's conventions: errors as problem+json (in
the answers and in the OpenAPI document), bearer auth, one transaction per request."""

from __future__ import annotations

import http
import logging
from typing import Any

from flask import Flask, Response, g, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, ValidationError

from gateway.api import auth, idempotency, unit
from gateway.api.problems import (
    PROBLEM_JSON,
    Problem,
    flatten_errors,
    problem_response,
    slug,
    validation_problem,
)
from gateway.partners import registry
from schemas.api.common import IDEMPOTENCY_KEY, ProblemSchema

log = logging.getLogger(__name__)


class FilePartnerConverter(BaseConverter):
    """A registered file partner's id (``<file_partner:partner>``); anything else does not match."""

    regex = "[A-Z][A-Z0-9]{1,7}"

    def to_python(self, value: str) -> str:
        if value not in registry.file_partner_ids():
            raise ValidationError()
        return value


def file_partner_schema(converter: type[BaseConverter]) -> dict[str, Any]:
    """The OpenAPI schema of a ``file_partner`` path parameter: the registered file partners."""
    return {"type": "string", "enum": list(registry.file_partner_ids())}


class SvcardApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # Like flask-smorest's, but every error answer is a problem+json document.
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error, as RFC 9457 problem details", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        data = getattr(error, "data", None) or {}
        headers = data.get("headers") or {}
        if error.code == 422 and "messages" in data:
            errors: dict[str, list[str]] = {}
            for location_errors in data["messages"].values():  # {location: {field: [msg]}}
                errors.update(flatten_errors(location_errors))
            problem = validation_problem(errors)
            return problem_response(
                problem.status, problem.code, problem.title, problem.detail, headers=headers, **problem.extra
            )
        code = error.code or 500
        # A 500's own description may carry internals: never shown to the client.
        detail = data.get("message") or (error.description if code < 500 else None)
        return problem_response(code, slug(error.name), error.name, detail, headers=headers)


def _valid_key(key: str) -> bool:
    try:
        IDEMPOTENCY_KEY(key)
    except Exception:  # noqa: BLE001 - marshmallow's ValidationError: the view will say why
        return False
    return True


def before_request() -> Response | None:
    auth.check_access()
    if idempotency.applies() and request.endpoint and g.get("svcard_caller"):
        key = request.headers[idempotency.HEADER]
        if not _valid_key(key):
            return None  # the view's header validation answers 422 naming Idempotency-Key
        print_ = idempotency.fingerprint()
        token_id = auth.caller().token_id
        found = idempotency.find(unit.db(), token_id, key)
        if found is not None:
            return idempotency.replay(found, print_)
        g.svcard_idem = (token_id, key, print_)
    return None


def after_request(resp: Response) -> Response:
    """Commit the request's work, audit entries and idempotency record together; roll back
    the work of an error answer (but still record a 4xx answer for its key)."""
    idem = g.pop("svcard_idem", None)
    session = g.get("svcard_db")
    if session is None or resp.headers.get(idempotency.REPLAYED):
        return resp
    if resp.status_code >= 400:
        session.rollback()
    try:
        if idem is not None and resp.status_code < 500 and not g.get("svcard_transient"):
            idempotency.record(session, idem[0], idem[1], idem[2], resp)
        session.commit()
    except IntegrityError:
        session.rollback()
        found = idempotency.find(session, idem[0], idem[1]) if idem else None
        if found is None:
            return concurrent_update(None)
        # A concurrent request with the same key committed first: answer as it did.
        try:
            return idempotency.replay(found, idem[2])
        except Problem as problem:
            return problem.response()
    return resp


# On every answer, errors and the docs page included. Answers carry PII (masked or not) and
# tokens' details, so none may be stored by a browser or proxy cache: no-store on all is the
# one rule that cannot miss a route. A page that needs a policy of its own (the docs page's
# inline style) sets its Content-Security-Policy itself; the rest is not negotiable.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"


def security_headers(resp: Response) -> Response:
    resp.headers.update(SECURITY_HEADERS)
    resp.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    return resp


def concurrent_update(_exc: IntegrityError | None) -> Response:
    """A unique constraint settled a race against this request (e.g. two approvals taking
    the same number): nothing was kept, and a retry (same key) runs again."""
    g.svcard_transient = True  # not an answer to keep for the Idempotency-Key
    return problem_response(409, "concurrent-update", "Concurrent update",
                            "the request collided with a concurrent change and was undone; retry it")  # fmt: skip


def register(app: Flask, api: SvcardApi) -> None:
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    app.register_error_handler(Problem, lambda exc: exc.response())
    app.register_error_handler(IntegrityError, concurrent_update)
    app.before_request(before_request)
    # Registered first, so it runs last (Flask runs after_request hooks in reverse): it also
    # covers the answer after_request may substitute (a replay, a concurrent-update 409).
    app.after_request(security_headers)
    app.after_request(after_request)
    app.teardown_request(unit.close)
