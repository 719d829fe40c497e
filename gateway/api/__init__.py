"""HTTP API: one blueprint per resource, under ``/api``.

To add a resource: write ``gateway/api/<name>.py`` with ``blp = ApiBlueprint(...)`` and
views declared with ``@blp.route(rule, methods=[...], roles=[...], pii=...)``, then add
``"<name>"`` to ``BLUEPRINTS`` below. Auth, masking, idempotency, problem answers and the
401/403 tests then cover it without more code.
"""

from __future__ import annotations

from importlib import import_module

from flask import Flask, Response

from gateway.api import docs, request_id

# Modules of gateway.api exposing ``blp``; one line per resource.
BLUEPRINTS = [
    "meta",
    "me",
    "volunteers",
    "cards",
    "exchanges",
    "care",
    "donations",
    "terminals",
    "service",
    "statistics",
]

API_TITLE = "svcard-gateway API"
API_VERSION = "1"


def register_api(app: Flask) -> None:
    # The API's machinery (flask-smorest, apispec, the marshmallow schemas, prometheus) loads when
    # an app is built, not with this package (gateway.app and gateway.api.tokens import it at start)
    from gateway.api import core, domain_errors, health, metrics

    app.config.update(
        API_TITLE=API_TITLE,
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        # The JSON API answers UTF-8 as is (names are Chinese).
        JSON_AS_ASCII=False,
        # The largest body is a photo as base64 (at most 2.8 MB): refuse more with a 413.
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # A file partner's id in a path: checked against the registry when the URL is matched,
    # so an unknown partner is a 404 before anything else is read.
    app.url_map.converters["file_partner"] = core.FilePartnerConverter
    api = core.SvcardApi(app, spec_kwargs={"info": {"description": "See /api/docs and docs/api.md."}})
    api.register_converter(core.FilePartnerConverter, core.file_partner_schema)
    for name in BLUEPRINTS:
        api.register_blueprint(import_module(f"gateway.api.{name}").blp, url_prefix="/api")
    core.register(app, api)
    request_id.register(app)
    metrics.register(app)
    domain_errors.register(app)
    app.extensions["svcard_api"] = api

    health.register(app)

    page: list[str] = []

    def api_docs_page() -> Response:
        if not page:
            page.append(docs.render(api.spec.to_dict()))
        return Response(page[0], mimetype="text/html", headers={"Content-Security-Policy": docs.CSP})

    app.add_url_rule("/api/docs", "api_docs_page", api_docs_page)
