"""Small helpers shared by the foundation's CLI modules (volunteers, cards, calendar, demo)."""

from __future__ import annotations

from datetime import date, datetime

import click

from gateway.domain.errors import DomainError
from gateway.timeutil import BEIJING, beijing_today
from schemas.rules import parse_yyyymmdd


def business_date_option(f):
    return click.option(
        "--business-date",
        "business_date",
        metavar="YYYYMMDD",
        default=None,
        help="Beijing business date to use (default: today in Beijing).",
    )(f)


def yyyymmdd(value: str | None, hint: str) -> date | None:
    """A ``YYYYMMDD`` option (None when not given); a bad one is a usage error naming the
    option."""
    if value is None:
        return None
    d = parse_yyyymmdd(value)
    if d is None:
        raise click.BadParameter("must be a YYYYMMDD date", param_hint=hint)
    return d


def parse_business_date(value: str | None) -> date:
    """``--business-date``, by default today in Beijing (the gateway's clock)."""
    return yyyymmdd(value, "--business-date") or beijing_today()


def fail(exc: DomainError) -> None:
    """Print a coded domain error and exit 1."""
    click.echo(f"svcard: {exc.code}: {exc.message}", err=True)
    raise SystemExit(1)


def beijing(instant: datetime | None) -> str:
    return instant.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if instant else "-"
