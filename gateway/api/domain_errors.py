"""Domain refusals as problem documents: a ``DomainError``'s code becomes the problem
``type`` (``VOLUNTEER_NOT_FOUND`` -> ``.../problems/volunteer-not-found``) with its field;
``NotEligible`` lists every broken rule per field; a ``LifecycleError`` answers 409 with
the card's current state, the refused event and the events its state allows."""

from __future__ import annotations

from flask import Flask, Response

from gateway.api.problems import problem_response, slug
from gateway.domain.errors import DomainError, NotEligible
from gateway.domain.lifecycle import LifecycleError, OrderRefused


def _title(code: str) -> str:
    return code.replace("_", " ").capitalize()


def domain_error(exc: DomainError) -> Response:
    if isinstance(exc, NotEligible):
        errors: dict[str, list[str]] = {}
        for p in exc.problems:
            errors.setdefault(p.field, []).append(f"{p.rule}: {p.message}")
        return problem_response(422, slug(exc.code), "Eligibility rules not met", exc.message, errors=errors)
    return problem_response(exc.http_status, slug(exc.code), _title(exc.code), exc.message, field=exc.field)


def lifecycle_error(exc: LifecycleError) -> Response:
    return problem_response(
        409,
        slug(exc.code),
        _title(exc.code),
        str(exc),
        current_state=str(exc.current_state),
        event=str(exc.event),
        allowed_events=list(exc.allowed_events),
    )


def order_refused(exc: OrderRefused) -> Response:
    return problem_response(409, slug(exc.code), _title(exc.code), exc.message)


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(LifecycleError, lifecycle_error)
    app.register_error_handler(OrderRefused, order_refused)
