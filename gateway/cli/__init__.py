"""The ``svcard`` command: click, on Flask's CLI.

Each area has its own module exposing ``cli``: a click group or command, or a list of them;
they are registered here, in one list.
"""

from __future__ import annotations

import importlib
import sys

import click
from flask.cli import FlaskGroup

from gateway.settings import SettingsError

# Modules under gateway/cli/ that expose ``cli``; one line per area.
COMMAND_MODULES = [
    "config",
    "db",
    "jobs",
    "keys",
    "envelope",
    "tokens",
    "serve",
    "exchange",
    "files",
    "volunteers",
    "cards",
    "calendar",
    "demo",
    "held",
    "sandbox",
    "health",
    "insurance",
]


def _create_app():
    from gateway.app import create_app

    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_version_option=False, set_debug_flag=False, load_dotenv=False
)
def svcard() -> None:
    """svcard-gateway: the Shenzhen Volunteer Card partner gateway."""


for _name in COMMAND_MODULES:
    _cli = importlib.import_module(f"gateway.cli.{_name}").cli
    for _command in _cli if isinstance(_cli, list) else [_cli]:
        svcard.add_command(_command)


def main() -> None:
    try:
        svcard.main(prog_name="svcard", standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"svcard: configuration error: {exc}", err=True)
        sys.exit(2)
