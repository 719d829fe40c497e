"""Fixtures for tests against real servers.

SFTP: ``sftp_client_key`` (our client key pair), ``openssh_sftpd`` (a real OpenSSH sshd
with internal-sftp on a free loopback port, session-wide) and ``sandbox_sftpd`` (the
sandbox partners' paramiko SFTP server, session-wide). Tests get a clean partner folder
through ``sftp_endpoint``, parametrized over both servers.
"""

from __future__ import annotations

import base64
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest

from sandbox.sftp_server import SandboxSftpServer
from sandbox.sftp_sshd import SSHD, OpenSshServer, SshdUnavailable, new_ed25519_openssh
from sandbox.soap_sandbox import SoapSandbox
from tests.conftest import require_service


def soap_environ(sandbox: SoapSandbox, partner: str) -> dict[str, str]:
    """The environment that points our SOAP client for ``partner`` (SZHC or BOCINS) at the
    sandbox, with the partner's test account there."""
    url = {"SZHC": sandbox.health_url, "BOCINS": sandbox.insurer_url}[partner]
    user, password = sandbox.credentials[partner]
    return {
        f"SVCARD_PARTNER_{partner}_URL": url,
        f"SVCARD_PARTNER_{partner}_USERNAME": user,
        f"SVCARD_PARTNER_{partner}_PASSWORD": password,
    }


@dataclass
class ClientKey:
    key: paramiko.PKey  # private key, as the transport takes it
    private_openssh: bytes  # for OpenSSH's own client (-i)
    public_line: str  # for authorized_keys


def new_client_key() -> ClientKey:
    private, public = new_ed25519_openssh()
    return ClientKey(paramiko.Ed25519Key.from_private_key(io.StringIO(private.decode())), private, public)


@pytest.fixture(scope="session")
def sftp_client_key() -> ClientKey:
    return new_client_key()


@pytest.fixture(scope="session")
def openssh_sftpd(sftp_client_key: ClientKey) -> Iterator[OpenSshServer]:
    """A running OpenSSH sshd that authorises ``sftp_client_key`` (skipped/failed if absent)."""
    if not Path(SSHD).exists():
        require_service("OpenSSH sshd", f"{SSHD} not found")
    server = OpenSshServer([sftp_client_key.public_line])
    try:
        server.start()
    except SshdUnavailable as exc:
        server.stop()
        require_service("OpenSSH sshd", str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sandbox_sftpd(
    sftp_client_key: ClientKey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxSftpServer]:
    server = SandboxSftpServer(tmp_path_factory.mktemp("sandbox-sftp"), [sftp_client_key.key])
    server.start()
    yield server
    server.stop()


@dataclass
class SftpEndpoint:
    """One partner account on a running server, with a clean inbox/ and outbox/."""

    kind: str  # "sandbox" or "openssh"
    url: str
    host_key: paramiko.PKey  # the server's real host key, to pin
    folder: Path  # local folder holding inbox/ and outbox/
    server: SandboxSftpServer | OpenSshServer


def public_key(line: str) -> paramiko.PKey:
    """A public key from an OpenSSH line (``ssh-ed25519 AAAA...``), as a keystore pins it."""
    kind, blob = line.split()[:2]
    return paramiko.PKey.from_type_string(kind, base64.b64decode(blob))


def _clean(folder: Path) -> None:
    for sub in ("inbox", "outbox"):
        d = folder / sub
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)


@pytest.fixture
def sandbox_endpoint(sandbox_sftpd: SandboxSftpServer) -> SftpEndpoint:
    """The sandbox server's ``bocsz`` account, emptied."""
    folder = sandbox_sftpd.folder("bocsz")
    _clean(folder)
    return SftpEndpoint(
        "sandbox", sandbox_sftpd.url("bocsz"), public_key(sandbox_sftpd.host_key_line), folder, sandbox_sftpd
    )


@pytest.fixture(params=["sandbox", "openssh"])
def sftp_endpoint(request: pytest.FixtureRequest) -> SftpEndpoint:
    if request.param == "sandbox":
        return request.getfixturevalue("sandbox_endpoint")
    sshd: OpenSshServer = request.getfixturevalue("openssh_sftpd")
    _clean(sshd.partner_dir)
    return SftpEndpoint("openssh", sshd.url, public_key(sshd.host_public_key), sshd.partner_dir, sshd)
