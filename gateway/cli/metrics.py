"""`svcard metrics`: the standalone exporter, for a host that runs only workers or the
scheduler (no gunicorn to ask ``/metrics``): the same exposition, on its own port."""

from __future__ import annotations

import click

from gateway import context, metrics
from jobs.metrics import state_collectors


@click.group("metrics")
def cli() -> None:
    """Prometheus metrics (docs/metrics.md)."""


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9464, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--no-state", is_flag=True, help="Events only: leave the database's state to the API's /metrics."
)
def serve(host: str, port: int, no_state: bool) -> None:
    """Serve /metrics: every process's events (PROMETHEUS_MULTIPROC_DIR) and the state."""
    # werkzeug and prometheus' WSGI app load only for the exporter
    from prometheus_client import make_wsgi_app
    from werkzeug.serving import run_simple

    rt = context.current()
    if not metrics.multiprocess_dir():
        click.echo(
            "svcard metrics: PROMETHEUS_MULTIPROC_DIR is not set: this exporter would show only its own "
            "(empty) events; set it to the workers' directory (docs/metrics.md)",
            err=True,
        )
        raise SystemExit(2)
    collectors = [] if no_state else state_collectors(rt)
    app = make_wsgi_app(metrics.scrape_registry(*collectors))
    click.echo(f"svcard metrics: http://{host}:{port}/metrics")
    run_simple(host, port, app, threaded=True)
