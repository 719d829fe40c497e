"""Interoperability with the `openssl cms` command, exactly as partners/README.md runs it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import envelope as envelope_cli
from gateway.cli import keys as keys_cli
from keys.identity import cert_pem, key_pem
from keys.keystore import Keystore
from tests.conftest import require_service
from tests.keys.fixtures import Identities

pytestmark = pytest.mark.integration

PLAIN = "H|CARDORDER|1.0|SVA|BOCSZ|20261130|001|20261130093000\r\nD|张三|x\r\nT|1|0\r\n".encode("gb18030")


@pytest.fixture(scope="module")
def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        require_service("openssl", "the openssl command is not installed")
    return path


def sh(cmd: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=cwd, capture_output=True, timeout=60)


@pytest.fixture
def bank_files(tmp_path: Path, identities: Identities, ks: Keystore) -> Path:
    """The bank's side: its key and certificate, and our two certificates, as PEM files."""
    d = tmp_path / "bank"
    d.mkdir()
    (d / "bank.crt").write_bytes(cert_pem(identities.bank[0]))
    (d / "bank.key").write_bytes(key_pem(identities.bank[1]))
    (d / "sva-sign.crt").write_bytes(ks.export_cert("sign"))
    (d / "sva-decrypt.crt").write_bytes(ks.export_cert("decrypt"))
    return d


def cli_seal(src: Path, to: str, out: Path) -> None:
    """``svcard envelope seal`` of PLAIN, written to ``src`` first, to partner ``to``."""
    src.write_bytes(PLAIN)
    result = CliRunner().invoke(envelope_cli.cli, ["seal", "--to", to, str(src), str(out)])
    assert result.exit_code == 0, result.output


def openssl_opens(folder: Path, name: str, cert: str, key: str) -> bytes:
    """What the partner's openssl reads from ``name``.p7m in ``folder``: decrypted with its
    ``cert`` and ``key``, then verified against our signing certificate."""
    r = sh(
        f"openssl cms -decrypt -binary -inform DER -in {name}.p7m -recip {cert} -inkey {key} "
        f"| openssl cms -verify -binary -inform DER -CAfile sva-sign.crt -out {name}",
        folder,
    )
    assert r.returncode == 0, r.stderr.decode()
    return (folder / name).read_bytes()


def openssl_seals(folder: Path, signer: str, key: str, options: str = "") -> None:
    """The partner's openssl signs F in ``folder`` as ``signer`` and encrypts it to our
    decryption certificate, into F.p7m."""
    r = sh(
        f"openssl cms -sign -binary -nodetach -md sha256 -signer {signer} -inkey {key} {options} -in F -outform DER "
        "| openssl cms -encrypt -binary -aes256 -outform DER -out F.p7m sva-decrypt.crt",
        folder,
    )
    assert r.returncode == 0, r.stderr.decode()


def test_we_seal_openssl_decrypts_then_verifies(
    openssl, bank_files: Path, cli_runtime, tmp_path: Path
) -> None:
    cli_seal(tmp_path / "CARDORDER_SVA_20261130_001.txt", "BOCSZ", bank_files / "F.p7m")
    assert openssl_opens(bank_files, "F", "bank.crt", "bank.key") == PLAIN


@pytest.mark.parametrize("padding", ["pkcs1", "pss"])
def test_openssl_signs_and_encrypts_we_open(
    padding: str, openssl, bank_files: Path, cli_runtime, tmp_path: Path
) -> None:
    (bank_files / "F").write_bytes(PLAIN)
    openssl_seals(
        bank_files, "bank.crt", "bank.key", "-keyopt rsa_padding_mode:pss" if padding == "pss" else ""
    )
    out = tmp_path / "plain.txt"
    result = CliRunner().invoke(
        envelope_cli.cli, ["open", "--from", "BOCSZ", str(bank_files / "F.p7m"), str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == PLAIN


def test_openssl_file_signed_by_unpinned_partner_is_refused(
    openssl, bank_files: Path, cli_runtime, tmp_path: Path
) -> None:
    r = sh(
        "openssl req -x509 -newkey rsa:3072 -nodes -keyout x.key -out x.crt -subj /CN=X -days 5 2>/dev/null && "
        "printf 'H|x\\r\\n' > F",
        bank_files,
    )
    assert r.returncode == 0, r.stderr.decode()
    openssl_seals(bank_files, "x.crt", "x.key")
    out = tmp_path / "plain.txt"
    result = CliRunner().invoke(
        envelope_cli.cli, ["open", "--from", "BOCSZ", str(bank_files / "F.p7m"), str(out)]
    )
    assert result.exit_code == 1 and "E02" in result.stderr and not out.exists()


def test_openssl_req_certificate_is_pinnable_and_works(
    openssl, bank_files: Path, cli_runtime, tmp_path: Path
) -> None:
    """A partner certificate made the usual way (`openssl req -x509`, CA:TRUE, no key usage)."""
    r = sh(
        "openssl req -x509 -newkey rsa:3072 -nodes -keyout t.key -out t.crt -subj /CN=SZT -days 30",
        bank_files,
    )
    assert r.returncode == 0, r.stderr.decode()
    result = CliRunner().invoke(keys_cli.cli, ["trust", "SZT", str(bank_files / "t.crt")])
    assert result.exit_code == 0, result.output
    cli_seal(tmp_path / "f.txt", "SZT", bank_files / "G.p7m")
    assert openssl_opens(bank_files, "G", "t.crt", "t.key") == PLAIN


@pytest.mark.parametrize(
    "case", ["EKU without emailProtection", "anyExtendedKeyUsage only", "key usage without keyEncipherment"]
)
def test_certificates_we_refuse_to_pin_openssl_refuses_too(
    case: str, openssl, identities: Identities, tmp_path: Path
) -> None:
    """The trust refusals match what `openssl cms -verify` does (or the profile demands)."""
    from tests.keys.test_keystore import REFUSALS

    pem = REFUSALS[case][0](identities.stranger[1])
    (tmp_path / "s.crt").write_bytes(pem)
    (tmp_path / "s.key").write_bytes(key_pem(identities.stranger[1]))
    (tmp_path / "F").write_bytes(PLAIN)
    r = sh(
        "openssl cms -sign -binary -nodetach -md sha256 -signer s.crt -inkey s.key -in F -outform DER "
        "| openssl cms -verify -binary -inform DER -CAfile s.crt -out out",
        tmp_path,
    )
    if case == "key usage without keyEncipherment":
        # openssl signs and verifies with digitalSignature alone; the profile still wants
        # keyEncipherment (the same certificate is used to encrypt to the partner).
        assert r.returncode == 0, r.stderr.decode()
    else:
        assert r.returncode != 0
        assert b"certificate purpose" in r.stderr
