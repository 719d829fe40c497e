"""`svcard sandbox ...`: the sandbox partners (docs/sandbox.md).

``serve`` runs them in the foreground on loopback ports and prints what a gateway needs;
``day`` runs the back offices' business day on command; ``env`` prints the settings and
commands of an existing sandbox folder. SVA's certificates and SSH public key come from
this gateway's keystore unless files are given.
"""

from __future__ import annotations

from pathlib import Path

import click

from demo import sandbox_settings
from gateway import context
from gateway.cli._common import yyyymmdd
from gateway.keystore import keystore
from gateway.settings import SettingsError
from keys.keystore import KeystoreError


def _settings() -> sandbox_settings.SandboxSettings:
    """The SVCARD_SANDBOX_* settings; a bad one stops the command with its name."""
    try:
        return sandbox_settings.load(context.current().settings.var_dir)
    except SettingsError as exc:
        click.echo(f"svcard sandbox: {exc}", err=True)
        raise SystemExit(2) from None


def _sva_material(sign: Path | None, decrypt: Path | None, ssh_pub: Path | None) -> tuple[bytes, bytes, str]:
    """SVA's certificates and SSH public key: the files given, else this gateway's keystore."""
    if sign and decrypt and ssh_pub:
        return sign.read_bytes(), decrypt.read_bytes(), ssh_pub.read_text().strip()
    if sign or decrypt or ssh_pub:
        raise click.UsageError(
            "give all three of --sva-sign-cert, --sva-decrypt-cert and --sva-ssh-pub, or none"
        )
    try:
        ks = keystore()
        return ks.export_cert("sign"), ks.export_cert("decrypt"), ks.ssh_public_line()
    except KeystoreError as exc:
        click.echo(
            f"svcard sandbox: cannot read SVA's keys from the keystore ({exc}); run `svcard keys init` "
            "or give --sva-sign-cert, --sva-decrypt-cert and --sva-ssh-pub",
            err=True,
        )
        raise SystemExit(1) from None


def _world(
    dir_: Path | None, seed: int | None, sign: Path | None, decrypt: Path | None, ssh_pub: Path | None
):
    from sandbox.world import World  # paramiko and the partners' servers: not for `svcard --help`

    s = _settings()
    bank, transit, fund = sandbox_settings.rates(s)
    root = dir_ or s.dir
    sign_pem, decrypt_pem, ssh_line = _sva_material(sign, decrypt, ssh_pub)
    return World.create(
        root,
        sva_sign_cert_pem=sign_pem,
        sva_decrypt_cert_pem=decrypt_pem,
        sva_ssh_public_line=ssh_line,
        seed=s.seed if seed is None else seed,
        bank_rates=bank,
        transit_rates=transit,
        fund_rates=fund,
    )


_dir_option = click.option(
    "--dir",
    "dir_",
    type=click.Path(file_okay=False, path_type=Path),
    help="sandbox folder (SVCARD_SANDBOX_DIR)",
)
_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("sandbox")
def cli() -> None:
    """The sandbox partners: SFTP and SOAP on loopback, the partners' back offices."""


@cli.command("serve")
@_dir_option
@click.option("--seed", type=int, default=None, help="seed of the partners' choices (SVCARD_SANDBOX_SEED)")
@click.option("--interval", type=float, default=None, help="seconds between rounds (SVCARD_SANDBOX_INTERVAL)")
@click.option(
    "--date", "start", default=None, help="simulated business date YYYYMMDD (default: today, Beijing)"
)
@click.option(
    "--days-per-round", type=click.IntRange(0, 31), default=0, help="with --date: days to advance a round"
)
@click.option("--rounds", type=click.IntRange(1), default=None, help="stop after this many rounds")
@click.option("--sva-sign-cert", type=_file, help="SVA's signing certificate (default: the keystore's)")
@click.option("--sva-decrypt-cert", type=_file, help="SVA's decryption certificate")
@click.option("--sva-ssh-pub", type=_file, help="SVA's SSH public key line")
def serve_cmd(
    dir_: Path | None,
    seed: int | None,
    interval: float | None,
    start: str | None,
    days_per_round: int,
    rounds: int | None,
    sva_sign_cert: Path | None,
    sva_decrypt_cert: Path | None,
    sva_ssh_pub: Path | None,
) -> None:
    """Run the sandbox partners in the foreground until Ctrl-C; print their URLs, certificate
    and host key files, and the settings and `svcard keys` commands a gateway needs."""
    from sandbox.serve import SimClock, serve  # paramiko and the partners' servers: not for --help

    world = _world(dir_, seed, sva_sign_cert, sva_decrypt_cert, sva_ssh_pub)
    clock = SimClock(yyyymmdd(start, "--date"), days_per_round)
    serve(world, interval=interval or _settings().interval, clock=clock, say=click.echo, rounds=rounds)


@cli.command("day")
@_dir_option
@click.option(
    "--date", "day", default=None, help="run this business date YYYYMMDD (default: catch up to today)"
)
def day_cmd(dir_: Path | None, day: str | None) -> None:
    """Run the back offices' day now, on an existing sandbox folder (no servers started)."""
    # paramiko, the partners' servers and holidays load for this command, not for `svcard --help`
    from sandbox.clock import beijing_today
    from sandbox.world import World

    s = _settings()
    bank, transit, fund = sandbox_settings.rates(s)
    try:
        world = World.open(dir_ or s.dir, bank_rates=bank, transit_rates=transit, fund_rates=fund)
    except FileNotFoundError as exc:
        click.echo(f"svcard sandbox: {exc} (run `svcard sandbox serve` once)", err=True)
        raise SystemExit(1) from None
    try:
        d = yyyymmdd(day, "--date")
        if d is not None:
            world.run_day(d)
            click.echo(f"business date {d:%Y%m%d} run")
        else:
            closed = world.catch_up(beijing_today())
            click.echo("closed " + (", ".join(f"{x:%Y%m%d}" for x in closed) or "nothing"))
    finally:
        world.close()


@cli.command("env")
@_dir_option
def env_cmd(dir_: Path | None) -> None:
    """Print the partners' URLs, files, settings and commands of an existing sandbox folder
    (ports of its last start)."""
    # paramiko and the partners' servers load for this command, not for `svcard --help`
    from sandbox.serve import banner
    from sandbox.world import World

    try:
        world = World.open(dir_ or _settings().dir)
    except FileNotFoundError as exc:
        click.echo(f"svcard sandbox: {exc} (run `svcard sandbox serve` once)", err=True)
        raise SystemExit(1) from None
    try:
        click.echo(banner(world))
    finally:
        world.close()
