"""`svcard demo`: the first demo — database, keys, calendar, a generated sample of
volunteers imported, and the card pipeline printed. Running it again changes nothing
(the import is idempotent). Other areas extend it with the partners' exchanges."""

from __future__ import annotations

import click

from gateway import context, migrate
from gateway.cli.volunteers import print_report
from gateway.db import transaction
from gateway.services import calendar as cal_service
from gateway.services import sample
from gateway.services.volunteer_import import import_csv


def prepare_database(rt: context.Runtime) -> None:
    if rt.settings.database_url.startswith("sqlite"):
        rt.settings.var_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(rt.engine)
    click.echo(f"database: migrated ({rt.engine.url.render_as_string(hide_password=True)})")


def prepare_keys(rt: context.Runtime) -> None:
    """Create our keystore when a keystore module exists and it is not there yet."""
    try:
        from keys.keystore import Keystore
    except ImportError:
        click.echo("keys: no keystore module yet, skipped")
        return
    ks = Keystore(rt.settings.keys_dir, rt.settings.key_passphrase)
    if (rt.settings.keys_dir / "sign").exists():
        click.echo(f"keys: keystore present in {rt.settings.keys_dir}")
        return
    ks.init()
    click.echo(f"keys: keystore created in {rt.settings.keys_dir}")


@click.command("demo")
@click.option("--count", default=300, show_default=True, help="Sample volunteers to generate.")
@click.option("--seed", default=None, type=int, help="Sample seed (default SVCARD_SANDBOX_SEED).")
def cli(count: int, seed: int | None) -> None:
    """Create the database, import a generated sample of volunteers, print the card pipeline."""
    rt = context.current()
    prepare_database(rt)
    prepare_keys(rt)
    with transaction(rt.sessions) as session:
        seeded = cal_service.seed_from_holidays(session)
    click.echo("calendar: seeded " + (", ".join(map(str, seeded)) if seeded else "nothing new"))
    directory = rt.settings.var_dir / "demo"
    csv_path = sample.generate(
        directory, count, seed=rt.settings.sandbox_seed if seed is None else seed, bad_rows=3
    )
    click.echo(f"sample: {count} volunteers with JPEG photos in {directory}")
    with transaction(rt.sessions) as session:
        report = import_csv(session, csv_path, actor="demo")
    print_report(report)
    click.echo("")
    from gateway.cli.cards import pipeline

    click.get_current_context().invoke(pipeline)
