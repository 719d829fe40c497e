"""The sandbox SFTP server: confinement, OpenSSH's sftp client, concurrent sessions."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import paramiko
import pytest

from adapters.sftp import SftpTransport
from sandbox.sftp_server import SandboxSftpServer
from tests.integration.conftest import ClientKey, SftpEndpoint, new_client_key, public_key

pytestmark = pytest.mark.integration


def raw_client(server: SandboxSftpServer, key: paramiko.PKey, user: str = "bocsz") -> paramiko.SFTPClient:
    """paramiko's plain client, to try what our transport never would."""
    t = paramiko.Transport(("127.0.0.1", server.port))
    t.connect(username=user, pkey=key)
    return paramiko.SFTPClient.from_transport(t)


def test_paths_are_confined_to_the_account(
    sandbox_endpoint: SftpEndpoint, sftp_client_key: ClientKey, tmp_path
):
    server = sandbox_endpoint.server
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    # A symlink inside the account pointing out of it (planted on the server's disk).
    os.symlink(secret, sandbox_endpoint.folder / "outbox" / "link.txt")
    os.symlink(tmp_path, sandbox_endpoint.folder / "outbox" / "linkdir")
    sftp = raw_client(server, sftp_client_key.key)
    try:
        for path in (
            "../SZT/inbox",
            "/../SZT",
            "outbox/../../SZT",
            "/../../../../etc/passwd",
            "outbox/linkdir",
        ):
            with pytest.raises(PermissionError):
                sftp.listdir(path)
        with pytest.raises(PermissionError):
            sftp.open("../SZT/inbox/planted.txt", "wb")
        with pytest.raises(PermissionError):
            sftp.open("outbox/link.txt", "rb")
        with pytest.raises(PermissionError):
            sftp.open("outbox/linkdir/secret.txt", "rb")
        with pytest.raises(PermissionError):
            sftp.rename("outbox/link.txt", "../SZT/x")
        with pytest.raises(PermissionError):
            sftp.symlink("/etc/passwd", "outbox/new-link")
        # The root the client sees is the account folder: "/" and the login folder agree.
        assert sftp.normalize(".") == "/"
        assert sorted(sftp.listdir("/")) == ["inbox", "outbox"]
    finally:
        sftp.close()
    assert not (server.folder("szt") / "inbox" / "planted.txt").exists()
    assert secret.read_text() == "outside"


def test_file_operations_a_client_needs(sandbox_endpoint: SftpEndpoint, sftp_client_key: ClientKey):
    sftp = raw_client(sandbox_endpoint.server, sftp_client_key.key)
    try:
        with sftp.open("inbox/a.txt", "wb") as f:
            f.write(b"hello ")
        with sftp.open("inbox/a.txt", "ab") as f:
            f.write(b"world")
        assert sftp.stat("inbox/a.txt").st_size == 11
        with sftp.open("inbox/a.txt", "rb") as f:
            assert f.read() == b"hello world"
        with sftp.open("inbox/a.txt", "wb") as f:  # truncates
            f.write(b"new")
        sftp.mkdir("inbox/sub")
        with pytest.raises(OSError):
            sftp.mkdir("inbox/sub")
        sftp.rename("inbox/a.txt", "inbox/b.txt")
        with sftp.open("inbox/c.txt", "wb") as f:
            f.write(b"c")
        with pytest.raises(OSError):
            sftp.rename("inbox/c.txt", "inbox/b.txt")  # v3 rename never replaces
        sftp.posix_rename("inbox/c.txt", "inbox/b.txt")  # posix-rename does
        assert sorted(sftp.listdir("inbox")) == ["b.txt", "sub"]
        assert sftp.lstat("inbox/b.txt").st_size == 1
        sftp.remove("inbox/b.txt")
        sftp.rmdir("inbox/sub")
        with pytest.raises(FileNotFoundError):
            sftp.stat("inbox/b.txt")
        assert sftp.listdir("inbox") == []
    finally:
        sftp.close()


def test_unknown_user_or_key_refused(sandbox_endpoint: SftpEndpoint, sftp_client_key: ClientKey):
    with pytest.raises(paramiko.AuthenticationException):
        raw_client(sandbox_endpoint.server, sftp_client_key.key, user="root")
    with pytest.raises(paramiko.AuthenticationException):
        raw_client(sandbox_endpoint.server, new_client_key().key)
    t = paramiko.Transport(("127.0.0.1", sandbox_endpoint.server.port))
    try:
        t.start_client(timeout=5)
        with pytest.raises(paramiko.SSHException):
            t.auth_password("bocsz", "anything")
    finally:
        t.close()


def test_openssh_sftp_client_works_against_the_sandbox(
    sandbox_endpoint: SftpEndpoint, sftp_client_key: ClientKey, tmp_path: Path
):
    if not shutil.which("sftp"):
        from tests.conftest import require_service

        require_service("OpenSSH sftp client", "sftp not found")
    server = sandbox_endpoint.server
    key_file = tmp_path / "id"
    key_file.write_bytes(sftp_client_key.private_openssh)
    key_file.chmod(0o600)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{server.port} {server.host_key_line}\n")
    upload = tmp_path / "up.bin"
    upload.write_bytes(os.urandom(300_000))
    (sandbox_endpoint.folder / "outbox" / "RESULT_1.txt").write_bytes(b"from the bank")
    batch = tmp_path / "batch"
    batch.write_text(
        f"put {upload} inbox/ORDER_1.txt.part\n"
        "rename inbox/ORDER_1.txt.part inbox/ORDER_1.txt\n"
        "ls -l outbox\n"
        f"get outbox/RESULT_1.txt {tmp_path / 'got.txt'}\n"
        "rm outbox/RESULT_1.txt\n"
        "mkdir inbox/tmp\n"
        "rmdir inbox/tmp\n"
    )
    cmd = [
        "sftp", "-b", str(batch), "-i", str(key_file), "-P", str(server.port),
        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
        "bocsz@127.0.0.1",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "RESULT_1.txt" in done.stdout
    assert (sandbox_endpoint.folder / "inbox" / "ORDER_1.txt").read_bytes() == upload.read_bytes()
    assert (tmp_path / "got.txt").read_bytes() == b"from the bank"
    assert not (sandbox_endpoint.folder / "outbox" / "RESULT_1.txt").exists()
    # And OpenSSH's client refuses the sandbox when its host key is not the one known.
    known.write_text(f"[127.0.0.1]:{server.port} {new_client_key().public_line}\n")
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "Host key verification failed" in refused.stderr


def test_many_concurrent_sessions(sandbox_endpoint: SftpEndpoint, sftp_client_key: ClientKey, tmp_path: Path):
    host_key = public_key(sandbox_endpoint.server.host_key_line)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            with SftpTransport(sandbox_endpoint.url, sftp_client_key.key, [host_key], timeout=10) as t:
                for j in range(3):
                    t.upload(f"{i}-{j}".encode() * 1000, f"F_{i}_{j}.txt")
                t.list_outbox()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert errors == []
    assert len(list((sandbox_endpoint.folder / "inbox").iterdir())) == 24


def test_host_key_kept_across_restarts(sftp_client_key: ClientKey, tmp_path: Path):
    from sandbox.sftp_server import load_or_create_host_key

    key_path = tmp_path / "keys" / "sftp_host_ed25519"
    first = SandboxSftpServer(
        tmp_path / "sftp", [sftp_client_key.key], host_key=load_or_create_host_key(key_path)
    )
    pinned = public_key(first.host_key_line)
    assert key_path.stat().st_mode & 0o077 == 0
    for _ in range(2):  # the same pin works before and after a restart
        server = SandboxSftpServer(
            tmp_path / "sftp", [sftp_client_key.key], host_key=load_or_create_host_key(key_path)
        )
        with server, SftpTransport(server.url("szt"), sftp_client_key.key, [pinned], timeout=5) as t:
            assert t.list_outbox() == []
