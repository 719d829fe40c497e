"""The request body as JSON: parsed once per request, for the views' schemas (through
``BodyParser``) and the idempotency fingerprint alike.

A body that is not JSON answers one 400 problem naming the body, whatever made it so:
bad syntax, bytes that are not UTF-8, or nesting deeper than the parser's recursion limit
(100,000 ``[`` parse to a ``RecursionError``, which no route should see as a 500).
"""

from __future__ import annotations

import json
from typing import Any

from flask import g, request
from marshmallow import missing
from webargs.flaskparser import FlaskParser, is_json_request

from gateway.api.problems import Problem


class _Parsed:
    __slots__ = ("canonical", "reason", "value")

    def __init__(self, value: Any = missing, canonical: bytes = b"", reason: str | None = None) -> None:
        self.value, self.canonical, self.reason = value, canonical, reason


def _parse() -> _Parsed:
    parsed = g.get("svcard_body")
    if parsed is None:
        parsed = g.svcard_body = _parse_raw(request.get_data(cache=True))
    return parsed


def _parse_raw(raw: bytes) -> _Parsed:
    if not raw:
        return _Parsed()
    try:
        value = json.loads(raw.decode("utf-8"))
        # Canonical form for the fingerprint: the same JSON with other spacing or key order
        # is the same body. Encoding recurses too, so it is guarded with the decoding.
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    except UnicodeDecodeError as exc:
        return _Parsed(reason=f"not UTF-8 (byte {exc.start})")
    except json.JSONDecodeError as exc:
        return _Parsed(reason=f"{exc.msg} (line {exc.lineno}, column {exc.colno})")
    except RecursionError:
        return _Parsed(reason="nested too deeply")
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        return _Parsed(reason=str(exc).split(";")[0][:200])
    return _Parsed(value, canonical)


def json_body() -> Any:
    """The parsed body (``missing`` when empty); a 400 ``invalid-json`` problem if it is
    not JSON."""
    parsed = _parse()
    if parsed.reason is not None:
        raise Problem(
            400,
            "invalid-json",
            "The body is not valid JSON",
            f"body: {parsed.reason}",
            field="body",
            errors={"body": [f"not valid JSON: {parsed.reason}"]},
        )
    return parsed.value


def canonical_body() -> bytes:
    """The body for the idempotency fingerprint: canonical JSON, else the bytes as sent
    (a body that is not JSON is refused by the view, and that refusal is what the key keeps)."""
    parsed = _parse()
    return request.get_data(cache=True) if parsed.reason is not None else parsed.canonical


class BodyParser(FlaskParser):
    """webargs' parser reading JSON bodies through ``json_body`` (one parse, one refusal)."""

    def load_json(self, req: Any, schema: Any) -> Any:
        if not is_json_request(req):
            return missing
        return json_body()
