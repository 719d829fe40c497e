"""`svcard demo`: a month of the programme, end to end, in one command (demo.simulation).

It needs no configuration: SQLite, inline jobs and the sandbox partners, all under
``var/demo`` (rebuilt on every run). With ``--serve`` the API then stays up on a loopback
port, on the demo's database, with a printed operator token (the console's sign-in too).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from werkzeug.serving import run_simple

from gateway import context
from gateway.cli._common import yyyymmdd
from gateway.db import transaction


def _date(_ctx, _param, value: str | None) -> date | None:
    return yyyymmdd(value, "--start")


@click.command("demo")
@click.option(
    "--volunteers",
    default=300,
    show_default=True,
    type=click.IntRange(10, 20000),
    help="Synthetic volunteers (with photos) to load.",
)
@click.option("--days", default=31, show_default=True, type=click.IntRange(1, 120), help="Days to simulate.")
@click.option(
    "--start", default=None, callback=_date, help="First day, YYYYMMDD (default: the 10th of last month)."
)
@click.option("--seed", default=20261128, show_default=True, type=int, help="Seed of every random choice.")
@click.option(
    "--dir",
    "demo_dir",
    default="var/demo",
    show_default=True,
    type=click.Path(path_type=Path),
    help="The demo's own folder (deleted and rebuilt).",
)
@click.option(
    "--serve", is_flag=True, help="Keep the API and the console running on the demo's database afterwards."
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
def cli(
    volunteers: int, days: int, start: date | None, seed: int, demo_dir: Path, serve: bool, port: int
) -> None:
    """Run a simulated month through the real jobs and adapters against the sandbox partners."""
    from demo.simulation import Demo, DemoOptions  # the simulation loads for the run, not for --help

    demo = Demo(
        DemoOptions(volunteers=volunteers, seed=seed, start=start, days=days, demo_dir=demo_dir),
        echo=click.echo,
    )
    for line in demo.run():
        click.echo(line)
    if serve:
        _serve(demo, port)


def _serve(demo, port: int) -> None:
    # the API (its app, its tokens and every model under them) loads only with --serve
    from gateway.api.tokens import create_token
    from gateway.app import create_app

    s = demo.rt.settings
    app = create_app(
        {
            "var_dir": s.var_dir,
            "database_url": s.database_url,
            "keys_dir": s.keys_dir,
            "spool_dir": s.spool_dir,
        }
    )
    with transaction(context.current().sessions) as session:
        _row, token = create_token(session, name="demo-operator", role="operator")
    click.echo("")
    click.echo(f"console: http://127.0.0.1:{port}/console/  (sign in with the operator token below)")
    click.echo(f"API: http://127.0.0.1:{port}/api/docs  (OpenAPI: /api/openapi.json)")
    click.echo(f"operator token (shown once; also the console's sign-in): {token}")
    click.echo(f'try: curl -H "Authorization: Bearer {token}" http://127.0.0.1:{port}/api/cards?limit=5')
    click.echo("Ctrl-C stops.")
    run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False, use_debugger=False)
