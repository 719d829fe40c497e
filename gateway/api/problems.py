"""RFC 9457 problem details: every API error is ``application/problem+json`` with a stable
``type`` URI (``https://svcard.example/problems/<code>``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from flask import Response

from schemas.api.common import PROBLEM_BASE

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self) -> Response:
        return problem_response(
            self.status, self.code, self.title, self.detail, headers=self.headers, **self.extra
        )


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def slug(text: str) -> str:
    """'Method Not Allowed' -> 'method-not-allowed'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow errors ``{location: {field: [msg]}}`` as ``{field: [msg]}``,
    nested fields dotted (``photo.jpeg_base64``, ``items.0.name``)."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key)
            if name == "_schema":
                name = prefix.rstrip(".") or "body"
                out.setdefault(name, []).extend(_strings(value))
                continue
            out.update(flatten_errors(value, f"{prefix}{name}."))
    else:
        out.setdefault(prefix.rstrip(".") or "body", []).extend(_strings(messages))
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        result: list[str] = []
        for v in value:
            result.extend(_strings(v) if isinstance(v, list | tuple) else [str(v)])
        return result
    if isinstance(value, Mapping):
        return [f"{k}: {', '.join(_strings(v))}" for k, v in value.items()]
    return [str(value)]


def validation_problem(errors: dict[str, list[str]], status: int = 422) -> Problem:
    first = next(iter(errors.items()), ("body", ["invalid"]))
    return Problem(
        status,
        "validation-error",
        "The request is not valid",
        f"{first[0]}: {'; '.join(first[1])}",
        errors=errors,
    )
