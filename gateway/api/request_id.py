"""The request id: taken from the caller's ``X-Request-Id`` when it is a safe token (a
platform or proxy that already has one keeps it end to end), else made here; returned on
every answer and carried by every log record of the request (``gateway.logs.bind``)."""

from __future__ import annotations

import re
import uuid
from contextlib import ExitStack

from flask import Flask, Response, g, request

from gateway.logs import bind

HEADER = "X-Request-Id"
# Letters, digits and . _ : - up to 64: nothing a log line or a header could be broken by.
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id() -> str:
    return g.svcard_request_id


def _begin() -> None:
    given = request.headers.get(HEADER, "")
    g.svcard_request_id = given if _SAFE.match(given) else uuid.uuid4().hex
    g.svcard_log_context = ExitStack()
    g.svcard_log_context.enter_context(bind(request_id=g.svcard_request_id))


def _answer(resp: Response) -> Response:
    resp.headers[HEADER] = g.get("svcard_request_id") or uuid.uuid4().hex
    return resp


def _end(_exc: BaseException | None) -> None:
    stack = g.pop("svcard_log_context", None)
    if stack is not None:
        stack.close()


def register(app: Flask) -> None:
    # first of the before_request hooks: the access check's own log lines carry the id
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_answer)
    app.teardown_request(_end)
