"""`svcard keys ...`: our keys, partners' pinned certificates and host keys, rotations.

Exit status: 0 on success, 1 when the keystore refuses (the message names the file or
rule and the fix).
"""

from __future__ import annotations

import base64
import dataclasses
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from gateway import context
from gateway.keystore import keystore
from keys.keystore import KeystoreError


def _fail(exc: Exception) -> None:
    click.echo(f"svcard keys: {exc}", err=True)
    raise SystemExit(1)


@contextmanager
def _refused(about: Path | None = None) -> Iterator[None]:
    """A keystore refusal ends the command with status 1; ``about`` names the file read."""
    try:
        yield
    except KeystoreError as exc:
        _fail(KeystoreError(f"{about}: {exc}") if about is not None else exc)


@click.group("keys")
def cli() -> None:
    """Keystore: our key pairs, partners' certificates and SSH host keys, rotations."""


@cli.command("init")
def init() -> None:
    """Create our signing, decryption and SSH client keys (refuses to overwrite)."""
    ks = keystore()
    with _refused():
        ks.init()
    click.echo(f"keystore created in {ks.path}")
    click.echo(
        "give partners: `svcard keys export-cert sign`, `svcard keys export-cert decrypt`, "
        "`svcard keys export-ssh-pub`"
    )


@cli.command("list")
def list_() -> None:
    """Every key and certificate: role, SHA-256 fingerprint, validity, subject."""
    with _refused():
        entries = keystore().listing()
    if not entries:
        click.echo(f"svcard keys: no keys in {keystore().path}: run `svcard keys init`", err=True)
        raise SystemExit(1)
    for e in entries:
        valid = f"{e.not_before:%Y-%m-%d} .. {e.not_after:%Y-%m-%d}" if e.not_before and e.not_after else "-"
        click.echo(f"{e.role:<34} {e.fingerprint}  {valid:<24} {e.subject}")


@cli.command("rotate")
@click.argument("role", type=click.Choice(["sign", "decrypt"]))
def rotate(role: str) -> None:
    """Make a new key pair for ROLE and make it current."""
    ks = keystore()
    with _refused():
        kid = ks.rotate(role)
    click.echo(f"new {role} key {kid} is current; send partners `svcard keys export-cert {role}`")
    if role == "decrypt":
        click.echo("previous decryption keys still open files until `svcard keys retire`")


@cli.command("retire")
def retire() -> None:
    """Retire every previous decryption key (files sealed to them no longer open)."""
    with _refused():
        done = keystore().retire()
    click.echo(f"retired {len(done)} decryption key(s): {', '.join(done) or '-'}")


@cli.command("trust")
@click.argument("partner")
@click.argument("cert_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def trust(partner: str, cert_file: Path) -> None:
    """Pin PARTNER's certificate from CERT_FILE (PEM or DER)."""
    with _refused(cert_file):
        fp = keystore().trust(partner, cert_file.read_bytes())
    click.echo(f"pinned for {partner}: sha256 {fp}")


@cli.command("untrust")
@click.argument("partner")
@click.argument("fingerprint")
def untrust(partner: str, fingerprint: str) -> None:
    """Withdraw PARTNER's certificate with SHA-256 FINGERPRINT."""
    with _refused():
        keystore().untrust(partner, fingerprint)
    click.echo(f"withdrawn for {partner}: {fingerprint}")


@cli.command("trust-host")
@click.argument("partner")
@click.argument("known_hosts", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def trust_host(partner: str, known_hosts: Path) -> None:
    """Pin the SSH host key(s) of SFTP PARTNER from a known_hosts file."""
    with _refused(known_hosts):
        n = keystore().trust_host(partner, known_hosts.read_text())
    click.echo(f"pinned {n} new host key(s) for {partner}")


@cli.command("export-ssh-pub")
def export_ssh_pub() -> None:
    """Print our SSH client public key (for the partner's authorized_keys)."""
    with _refused():
        click.echo(keystore().ssh_public_line())


@cli.command("export-cert")
@click.argument("role", type=click.Choice(["sign", "decrypt"]))
def export_cert(role: str) -> None:
    """Print our current ROLE certificate in PEM (for partners)."""
    with _refused():
        click.echo(keystore().export_cert(role).decode(), nl=False)


@cli.command("rotate-data-key")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True)
@click.option(
    "--new-dev-key",
    is_flag=True,
    help="development only: generate the new key in var/secrets and keep the old one as previous",
)
def rotate_data_key(batch_size: int, new_dev_key: bool) -> None:
    """Re-encrypt every PII column under SVCARD_DATA_KEY (resumable: rerun after a crash)."""
    # the rotation loads every model (and the schemas under them): only for this command,
    # not for every `svcard keys ...`
    from gateway.services.data_key_rotation import DataKeyRotationError
    from gateway.services.data_key_rotation import rotate_data_key as run

    rt = context.current()
    if new_dev_key:
        new = _new_dev_key(rt.settings)
        s = dataclasses.replace(
            rt.settings,
            data_key=new,
            data_key_previous=(rt.settings.data_key, *rt.settings.data_key_previous),
        )
        rt = context.Runtime(settings=s, engine=rt.engine, sessions=rt.sessions)
        context.install(rt)

    def progress(table: str, rows: int) -> None:
        click.echo(f"  {table}: {rows} row(s) re-encrypted and committed")

    try:
        report = run(rt, batch_size=batch_size, on_batch=progress)
    except DataKeyRotationError as exc:
        _fail(exc)
    for col, n in sorted(report.rewritten.items()):
        click.echo(f"{col}: {n} value(s) re-encrypted")
    if report.done:
        click.echo("no value left under an old data key: SVCARD_DATA_KEY_PREVIOUS may now be removed")
    else:
        left = ", ".join(f"{c}={n}" for c, n in report.remaining.items() if n)
        _fail(KeystoreError(f"values still under an old key ({left}); run the command again"))


def _new_dev_key(s) -> bytes:
    """Development: var/secrets/data.key gets a new key, the old one is appended to
    var/secrets/data.key.previous (settings.py reads both)."""
    if s.production:
        _fail(
            KeystoreError(
                "--new-dev-key is for development; in production set SVCARD_DATA_KEY "
                "and SVCARD_DATA_KEY_PREVIOUS yourself"
            )
        )
    secrets_dir = s.var_dir / "secrets"
    current = secrets_dir / "data.key"
    if not current.exists() or current.read_text().strip() != base64.b64encode(s.data_key).decode():
        _fail(
            KeystoreError(
                "SVCARD_DATA_KEY is set in the environment: rotate it yourself "
                "(set the new key and SVCARD_DATA_KEY_PREVIOUS)"
            )
        )
    previous = secrets_dir / "data.key.previous"
    # Old key saved first: a crash before the switch leaves it both current and previous.
    fd = os.open(previous, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(current.read_text().strip() + "\n")
    tmp = current.with_name("data.key.tmp")
    tmp.unlink(missing_ok=True)
    new = secrets.token_bytes(32)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(base64.b64encode(new).decode())
    os.replace(tmp, current)
    click.echo(f"new data key in {current}; the old one is kept in {previous}")
    return new
