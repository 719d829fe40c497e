"""`svcard envelope seal|open`: a file to or from a partner, by hand.

Exit status 0 on success; 1 with ``E01``/``E02`` and a one-line reason when an envelope
is refused; 2 when the keystore cannot serve (missing key, bad permissions). OUT is
written to a temporary file beside it and renamed only on success, so it never exists
half-written or unverified.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from gateway.keystore import keystore
from gateway.partners import registry
from keys.envelope import EnvelopeError
from keys.keystore import KeystoreError

PartnerChoice = click.Choice(registry.ids())


def write_atomic(out: Path, data: bytes | bytearray | memoryview) -> None:
    """Write ``data`` to ``out`` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(dir=out.parent or Path("."), prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.group("envelope")
def cli() -> None:
    """Seal (sign + encrypt) and open (decrypt + verify) partner files."""


def _src_and_out(command):
    """The SRC (an existing file) and OUT (the file to write) arguments of both commands."""
    command = click.argument("out", type=click.Path(dir_okay=False, path_type=Path))(command)
    return click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))(command)


@contextmanager
def _keystore_serving() -> Iterator[None]:
    """Exit 2 when the keystore cannot serve (a missing key, bad permissions, a file it
    cannot read)."""
    try:
        yield
    except (KeystoreError, OSError) as exc:
        click.echo(f"svcard envelope: {exc}", err=True)
        raise SystemExit(2) from None


@cli.command("seal")
@click.option("--to", "partner", required=True, type=PartnerChoice, help="the receiving partner")
@_src_and_out
def seal(partner: str, src: Path, out: Path) -> None:
    """Sign SRC with our key and encrypt it to PARTNER's pinned certificates, into OUT."""
    with _keystore_serving():
        sealed = keystore().seal_file(src, to=partner)
    _write(out, sealed)


@cli.command("open")
@click.option("--from", "partner", required=True, type=PartnerChoice, help="the sending partner")
@_src_and_out
def open_(partner: str, src: Path, out: Path) -> None:
    """Decrypt SRC with our keys, verify it is signed by PARTNER, write the plain file to OUT."""
    with _keystore_serving():
        try:
            plain = keystore().open_file(src, from_=partner)
        except EnvelopeError as exc:
            click.echo(f"svcard envelope: {exc.code} {src.name}: {exc.reason}", err=True)
            raise SystemExit(1) from None
    _write(out, plain)


def _write(out: Path, data: bytearray | memoryview) -> None:
    try:
        write_atomic(out, data)
    except OSError as exc:
        click.echo(f"svcard envelope: cannot write {out}: {exc.strerror or exc}", err=True)
        raise SystemExit(2) from None
