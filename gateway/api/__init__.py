"""HTTP API: one blueprint per resource (the API issue fills this in)."""

from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}
