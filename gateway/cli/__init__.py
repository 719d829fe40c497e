"""The ``svcard`` command: click, on Flask's CLI.

Each area has its own module exposing ``cli``: a click group or command, or a list of them;
they are registered here, in one list. Commands from outside the gateway package (the
demo's ``svcard demo`` and ``svcard sandbox``) come in through the ``svcard.commands``
entry points, so the gateway never imports them.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import OperationalError, ProgrammingError

from gateway import context
from gateway.logs import configure_logging
from gateway.settings import SettingsError

# Modules under gateway/cli/ that expose ``cli``; one line per area.
COMMAND_MODULES = [
    "config",
    "doctor",
    "metrics",
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
    "held",
    "health",
    "insurance",
    "donations",
    "terminals",
]


# Commands whose module is not named after them (a group may also be extended by a second
# module). Running one command imports only its modules: start-up stays short. Any other
# name, and --help, load every module.
COMMAND_HOMES = {
    "worker": ("jobs",),
    "cron": ("jobs",),
    "cards": ("cards", "held"),
    "transit": ("held",),
}


PLUGIN_GROUP = "svcard.commands"


class LazyGroup(FlaskGroup):
    """Flask's CLI group, importing a command's module only when the command is used."""

    _loaded: set[str]

    def _plugins(self) -> dict[str, object]:
        return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}

    def _load(self, names) -> None:
        loaded = self.__dict__.setdefault("_loaded", set())
        for name in names:
            if name in loaded:
                continue
            loaded.add(name)
            found = importlib.import_module(f"gateway.cli.{name}").cli
            self._add(found)

    def _add(self, found) -> None:
        for command in found if isinstance(found, list) else [found]:
            if command.name not in self.commands:
                self.add_command(command)

    def _load_plugin(self, name: str) -> None:
        ep = self._plugins().get(name)
        if ep is not None and name not in self.commands:
            self._add(ep.load())

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load(COMMAND_MODULES)
        for name in self._plugins():
            self._load_plugin(name)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str):
        if name in self._plugins():
            self._load_plugin(name)
            return super().get_command(ctx, name)
        homes = COMMAND_HOMES.get(name) or ((name,) if name in COMMAND_MODULES else COMMAND_MODULES)
        self._load(homes)
        return super().get_command(ctx, name)


def _create_app():
    # the app module (and the API package) load only when Flask needs the app (`svcard --help`
    # lists its commands), not with every command
    from gateway.app import create_app

    return create_app()


@click.group(
    cls=LazyGroup, create_app=_create_app, add_version_option=False, set_debug_flag=False, load_dotenv=False
)
def svcard() -> None:
    """svcard-gateway: the Shenzhen Volunteer Card partner gateway."""
    # Every command logs through the PII mask at the configured level (jobs run inline
    # in the command's process, and `svcard worker` runs them all).
    configure_logging(context.current().settings.log_level, context.current().settings.log_style)


def schema_missing(exc: BaseException) -> str | None:
    """The database's own words when ``exc`` means the schema is absent or older than the
    code (a missing table or column), else None."""
    if not isinstance(exc, (OperationalError, ProgrammingError)):
        return None
    orig = exc.orig
    said = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    # psycopg: undefined_table, undefined_column; SQLite has no codes, only the message.
    if getattr(orig, "sqlstate", None) in ("42P01", "42703"):
        return said
    return said if said.startswith(("no such table", "no such column")) else None


def connect_failed(exc: BaseException) -> str | None:
    """The driver's first line when ``exc`` is a failure to connect (no statement was
    running), else None. Drivers do not put the password in it."""
    if not isinstance(exc, OperationalError) or exc.statement is not None:
        return None
    return str(exc.orig).splitlines()[0] if str(exc.orig) else type(exc.orig).__name__


def main() -> None:
    try:
        svcard.main(prog_name="svcard", standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"svcard: configuration error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        # A fresh SVCARD_VAR_DIR or database, or one not reachable: say so, not a traceback.
        said = schema_missing(exc)
        if said is not None:
            click.echo(
                f"svcard: the database has no schema or an older one ({said}): run `svcard db upgrade`",
                err=True,
            )
            sys.exit(2)
        said = connect_failed(exc)
        if said is None:
            raise
        click.echo(f"svcard: cannot connect to the database (SVCARD_DATABASE_URL): {said}", err=True)
        sys.exit(2)
