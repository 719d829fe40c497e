"""`svcard keys ...` as an operator runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from gateway import context
from gateway import settings as settings_mod
from gateway.cli import envelope as envelope_cli
from gateway.cli import keys as keys_cli
from keys.identity import cert_pem, fingerprint, key_pem
from keys.keystore import Keystore
from tests.keys.fixtures import PASSPHRASE, Identities


def keys(*args: str):
    return CliRunner().invoke(keys_cli.cli, list(args))


@pytest.fixture
def fresh(tmp_path: Path):
    """A runtime whose keystore folder does not exist yet."""
    s = settings_mod.load(
        environ={}, var_dir=tmp_path / "var", keys_dir=tmp_path / "keys", key_passphrase=PASSPHRASE
    )
    rt = context.build(s)
    context.install(rt)
    yield tmp_path / "keys"
    context.install(None)
    rt.engine.dispose()


def test_init_then_refuses_a_second_time(fresh: Path) -> None:
    assert keys("init").exit_code == 0
    sign = Keystore(fresh, PASSPHRASE).certificate("sign")
    again = keys("init")
    assert again.exit_code == 1 and "refusing to overwrite" in again.stderr
    assert Keystore(fresh, PASSPHRASE).certificate("sign") == sign

    pem = keys("export-cert", "sign").output.encode()
    assert x509.load_pem_x509_certificate(pem) == sign
    assert keys("export-ssh-pub").output.startswith("ssh-ed25519 AAAA")
    listing = keys("list").output
    assert fingerprint(sign) in listing and "sign (current)" in listing and "ssh client key" in listing


def test_commands_before_init_say_what_to_do(fresh: Path) -> None:
    result = keys("export-cert", "decrypt")
    assert result.exit_code == 1 and "svcard keys init" in result.stderr
    listing = keys("list")  # was an empty listing, exit 0
    assert listing.exit_code == 1 and "run `svcard keys init`" in listing.stderr


def test_rotate_retire_and_trust_commands(
    ks: Keystore, cli_runtime, identities: Identities, tmp_path: Path
) -> None:
    old = fingerprint(ks.certificate("decrypt"))
    assert keys("rotate", "decrypt").exit_code == 0
    listing = keys("list").output
    assert "decrypt (previous)" in listing and old in listing
    assert "1 decryption key(s)" in keys("retire").output
    assert "decrypt (retired)" in keys("list").output

    leaked = tmp_path / "partner.pem"
    leaked.write_bytes(cert_pem(identities.stranger[0]) + key_pem(identities.stranger[1]))
    result = keys("trust", "SZVF", str(leaked))
    assert result.exit_code == 1
    assert str(leaked) in result.stderr and "private key" in result.stderr
    assert ks.partner_certs("SZVF") == []

    good = tmp_path / "szvf.pem"
    good.write_bytes(cert_pem(identities.stranger[0]))
    assert keys("trust", "SZVF", str(good)).exit_code == 0
    fp = fingerprint(identities.stranger[0])
    assert "partner SZVF certificate" in keys("list").output
    assert keys("untrust", "SZVF", fp).exit_code == 0
    assert ks.partner_certs("SZVF") == []


def test_permission_problem_names_the_fix(ks: Keystore, cli_runtime) -> None:
    key_file = next(ks.path.glob("sign/*.key"))
    key_file.chmod(0o640)
    result = CliRunner().invoke(
        envelope_cli.cli,
        ["seal", "--to", "BOCSZ", __file__, str(ks.path.parent / "out.p7m")],
    )
    assert result.exit_code == 2
    assert f"chmod 600 {key_file}" in result.stderr
    assert not (ks.path.parent / "out.p7m").exists()


def test_unwritable_out_is_a_clear_error(ks: Keystore, cli_runtime, tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_bytes(b"H|x\r\n")
    result = CliRunner().invoke(
        envelope_cli.cli, ["seal", "--to", "BOCSZ", str(src), str(tmp_path / "no/such/out")]
    )
    assert result.exit_code == 2 and "cannot write" in result.stderr
