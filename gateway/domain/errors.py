"""Coded domain errors. The HTTP API turns them into problem+json (``code`` is the stable
``type``), the CLI prints them. Messages never contain PII."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: which field, which rule (a stable name), and a short reason."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}:{self.rule}:{self.message}"


class DomainError(Exception):
    """A refused use case. ``http_status`` is a hint for the API."""

    http_status = 422

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field


class NotFound(DomainError):
    http_status = 404


class Conflict(DomainError):
    """The request is valid but the current state forbids it."""

    http_status = 409


class Unavailable(DomainError):
    """A partner the use case needs cannot be called now (a security stop, no endpoint)."""

    http_status = 503


class CodedError(DomainError):
    """A refusal with a fixed code: subclasses name ``CODE`` (and ``FIELD`` when the refusal
    is about one), and are raised with the message alone."""

    CODE = "REFUSED"
    FIELD: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(self.CODE, message, self.FIELD)


class Invalid(DomainError):
    """A value breaks a field rule."""

    http_status = 422


class NotEligible(DomainError):
    """Eligibility rules failed; ``problems`` lists every one."""

    http_status = 422

    def __init__(self, problems: list[Problem], message: str = "eligibility rules not met") -> None:
        super().__init__("NOT_ELIGIBLE", message + ": " + "; ".join(map(str, problems)))
        self.problems = problems
