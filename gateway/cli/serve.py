"""`svcard serve`: the API on a loopback port (werkzeug), for the demo and development.

Production runs ``wsgi:app`` under a real WSGI server; this is not one.
"""

from __future__ import annotations

import click
from flask import Flask
from werkzeug.serving import run_simple

from gateway.app import create_app


def serve_forever(app: Flask, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve ``app`` until interrupted (the demo's ``--serve`` calls this too)."""
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to bind (loopback by default)")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
def cli(host: str, port: int) -> None:
    """Serve the HTTP API (docs at /api/docs) and the operators' console (/console/) until interrupted."""
    app = create_app()
    click.echo(f"svcard API on http://{host}:{port}/api/docs (Ctrl-C stops)", err=True)
    click.echo(
        f"operators' console on http://{host}:{port}/console/ (sign in with an operator or auditor token)",
        err=True,
    )
    serve_forever(app, host, port)
