"""`svcard tokens create|list|revoke`: the API's bearer tokens."""

from __future__ import annotations

import click

from gateway import context
from gateway.api import tokens as tokens_mod
from gateway.db import transaction
from gateway.models.api import ROLES


@click.group("tokens")
def cli() -> None:
    """API bearer tokens (stored only as hashes)."""


@cli.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES), help="what the token may do")
@click.option("--name", required=True, help="who holds it, e.g. platform-prod (never reused)")
def create(role: str, name: str) -> None:
    """Create a token and print it once: it cannot be shown again."""
    try:
        with transaction(context.current().sessions) as session:
            row, token = tokens_mod.create_token(session, name=name, role=role)
            token_id = row.id
    except tokens_mod.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"token {token_id} {name} ({role}); store it now, it is not shown again:", err=True)
    click.echo(token)


@cli.command("list")
def list_() -> None:
    """Every token: id, name, role, created, revoked (never the token)."""
    with transaction(context.current().sessions) as session:
        rows = tokens_mod.list_tokens(session)
        for row in rows:
            revoked = row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "-"
            click.echo(
                f"{row.id:>4}  {row.name:<24} {row.role:<9} "
                f"created {row.created_at.isoformat(timespec='seconds')}  revoked {revoked}"
            )
    if not rows:
        click.echo("no tokens", err=True)


@cli.command("revoke")
@click.argument("name_or_id")
def revoke(name_or_id: str) -> None:
    """Revoke a token by name or id; it stops working at once."""
    try:
        with transaction(context.current().sessions) as session:
            row = tokens_mod.revoke_token(session, name_or_id)
            click.echo(f"token {row.id} {row.name} revoked at {row.revoked_at.isoformat(timespec='seconds')}")
    except tokens_mod.TokenError as exc:
        raise click.ClickException(str(exc)) from None
