"""``/metrics`` (Prometheus' text format) and the API's request metrics.

Outside ``/api`` and without a token, as Prometheus scrapes: it carries counts only, no
PII and no value of a record (docs/metrics.md); restrict it to the monitoring network at
the proxy like ``/readyz``."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from gateway import context, metrics
from jobs.metrics import state_collectors


def _start() -> None:
    g.svcard_started = time.perf_counter()


def _observe(resp: Response) -> Response:
    started = g.get("svcard_started")
    if started is not None and request.endpoint != "metrics":
        # the URL rule, not the path: /api/volunteers/<number> is one route, whatever the number
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.observe_request(route, request.method, resp.status_code, time.perf_counter() - started)
    return resp


def register(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_observe)

    @app.get("/metrics", endpoint="metrics")
    def metrics_view() -> Response:
        return Response(
            metrics.exposition(*state_collectors(context.current())), mimetype=metrics.CONTENT_TYPE_LATEST
        )
