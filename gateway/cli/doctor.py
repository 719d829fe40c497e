"""`svcard doctor`: the readiness checks of ``/readyz``, one line each, for the operator at
the console of a host (exit 1 when one fails)."""

from __future__ import annotations

import click

from gateway import context, readiness


@click.command("doctor")
def cli() -> None:
    """Check the database and its migrations, Redis, the keystore and the spool."""
    checks = readiness.run_checks(context.current())
    width = max(len(c.name) for c in checks)
    for c in checks:
        click.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<{width}}  {c.detail}")
    failed = [c.name for c in checks if not c.ok]
    if failed:
        click.echo(f"svcard doctor: {len(failed)} check(s) failed: {', '.join(failed)}", err=True)
        raise SystemExit(1)
