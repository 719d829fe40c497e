"""`svcard config show`: the effective settings, secrets redacted."""

from __future__ import annotations

import click

from gateway import settings as settings_mod


@click.group("config")
def cli() -> None:
    """Settings."""


@cli.command("show")
def show() -> None:
    """Print every SVCARD_* setting's effective value (secrets as ***)."""
    s = settings_mod.load()
    rows = s.redacted()
    width = max(len(name) for name, _, _ in rows)
    for name, value, doc in rows:
        click.echo(f"{name:<{width}}  {value or '-'}    # {doc}")
