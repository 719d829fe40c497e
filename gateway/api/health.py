"""``/healthz`` (the process answers) and ``/readyz`` (it can work: the checks of
``gateway.readiness``, the same as ``svcard doctor``). Both are outside ``/api`` and need
no token: a load balancer or Prometheus' blackbox probe asks them."""

from __future__ import annotations

from flask import Flask

from gateway import context, readiness
from gateway.api.problems import problem_response


def register(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz():  # noqa: ANN202 - a dict or a problem response
        checks = readiness.run_checks(context.current())
        listed = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]
        failed = [c.name for c in checks if not c.ok]
        if not failed:
            return {"status": "ready", "checks": listed}
        return problem_response(
            503,
            "not-ready",
            "Not Ready",
            "failed: " + ", ".join(f"{c.name} ({c.detail})" for c in checks if not c.ok),
            failed=failed,
            checks=listed,
            headers={"Retry-After": "10"},
        )
