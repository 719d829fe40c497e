"""Small helpers shared by the foundation's CLI modules (volunteers, cards, calendar, demo)."""

from __future__ import annotations

from datetime import date, datetime

import click

from gateway.domain.errors import DomainError
from gateway.settings import BUSINESS_TZ
from schemas.rules import parse_yyyymmdd


def business_date_option(f):
    return click.option(
        "--business-date",
        "business_date",
        metavar="YYYYMMDD",
        default=None,
        help="Beijing business date to use (default: today in Beijing).",
    )(f)


def parse_business_date(value: str | None) -> date:
    if value is None:
        return datetime.now(BUSINESS_TZ).date()
    d = parse_yyyymmdd(value)
    if d is None:
        raise click.BadParameter("must be a YYYYMMDD date", param_hint="--business-date")
    return d


def fail(exc: DomainError) -> None:
    """Print a coded domain error and exit 1."""
    click.echo(f"svcard: {exc.code}: {exc.message}", err=True)
    raise SystemExit(1)


def beijing(instant: datetime | None) -> str:
    return instant.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S") if instant else "-"
