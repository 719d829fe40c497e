"""SftpTransport against the sandbox SFTP server and a real OpenSSH sshd (each test, both)."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import paramiko
import pytest

from adapters.sftp import AuthError, HostKeyError, RemoteFileError, SftpTransport, TransientError, UploadError
from sandbox.sftp_server import SandboxSftpServer, generate_host_key
from sandbox.sftp_sshd import OpenSshServer, free_port
from tests.integration.conftest import ClientKey, SftpEndpoint, new_client_key

pytestmark = pytest.mark.integration

NAME = "CARDORDER_SVA_20261130_001.zip.p7m"


class Sleeps(list):
    """Records the back-off delays instead of sleeping; may run an action on a call."""

    def __init__(self, on_call: dict[int, object] | None = None) -> None:
        super().__init__()
        self.on_call = on_call or {}

    def __call__(self, delay: float) -> None:
        self.append(delay)
        action = self.on_call.get(len(self))
        if action:
            action()


def transport(ep: SftpEndpoint, key: ClientKey, **kw) -> SftpTransport:
    kw.setdefault("timeout", 5)
    kw.setdefault("retry_base_delay", 0.01)
    return SftpTransport(ep.url, key.key, [ep.host_key], partner="BOCSZ", **kw)


def test_upload_lands_whole_under_its_name(
    sftp_endpoint: SftpEndpoint, sftp_client_key: ClientKey, tmp_path: Path
):
    data = os.urandom(700_001)  # several pipelined write requests, not a multiple of any
    src = tmp_path / "order.p7m"
    src.write_bytes(data)
    (sftp_endpoint.folder / "inbox" / f"{NAME}.part").write_bytes(b"stale half upload")
    with transport(sftp_endpoint, sftp_client_key) as t:
        assert t.upload(src, NAME) == len(data)
        assert t.upload(b"second", "ACK_SVA_20261130_001.txt.p7m") == 6
        # A retry after a lost confirmation replaces the earlier copy.
        assert t.upload(data, NAME) == len(data)
    inbox = sftp_endpoint.folder / "inbox"
    assert (inbox / NAME).read_bytes() == data
    assert (inbox / "ACK_SVA_20261130_001.txt.p7m").read_bytes() == b"second"
    assert sorted(p.name for p in inbox.iterdir()) == ["ACK_SVA_20261130_001.txt.p7m", NAME]


def test_upload_writes_part_then_renames(sftp_endpoint: SftpEndpoint, sftp_client_key: ClientKey):
    # A folder in the way of the final name makes the rename fail: what was written is
    # then all in <name>.part, and nothing appeared under the real name.
    blocker = sftp_endpoint.folder / "inbox" / NAME
    blocker.mkdir()
    (blocker / "keep").write_bytes(b"")
    sleeps = Sleeps()
    with (
        transport(sftp_endpoint, sftp_client_key, sleep=sleeps) as t,
        pytest.raises(RemoteFileError, match=NAME),
    ):
        t.upload(b"z" * 100_000, NAME)
    assert (sftp_endpoint.folder / "inbox" / f"{NAME}.part").read_bytes() == b"z" * 100_000
    assert blocker.is_dir() and sleeps == []


def test_upload_size_mismatch_is_an_upload_error(
    sandbox_endpoint: SftpEndpoint, sftp_client_key: ClientKey, monkeypatch: pytest.MonkeyPatch
):
    # A faulty server that loses the tail of a file when renaming it.
    from sandbox import sftp_server

    real = sftp_server._SftpInterface.posix_rename

    def lossy(self, old, new):
        rc = real(self, old, new)
        os.truncate(self.account.real(new), 10)
        return rc

    monkeypatch.setattr(sftp_server._SftpInterface, "posix_rename", lossy)
    sleeps = Sleeps()
    with (
        transport(sandbox_endpoint, sftp_client_key, sleep=sleeps) as t,
        pytest.raises(UploadError, match="10 bytes, sent 5000"),
    ):
        t.upload(b"y" * 5000, NAME)
    assert sleeps == []


def test_listing_ignores_part_files_and_folders(sftp_endpoint: SftpEndpoint, sftp_client_key: ClientKey):
    outbox = sftp_endpoint.folder / "outbox"
    (outbox / "CARDRESULT_BOCSZ_20261130_001.txt.p7m").write_bytes(b"a" * 10)
    (outbox / "CARDSTATUS_BOCSZ_20261130_001.txt.p7m").write_bytes(b"")
    (outbox / "SWIPE_BOCSZ_20261130_001.txt.p7m.part").write_bytes(b"still uploading")
    (outbox / "archive").mkdir()
    with transport(sftp_endpoint, sftp_client_key) as t:
        files = t.list_outbox()
    assert [(f.name, f.size) for f in files] == [
        ("CARDRESULT_BOCSZ_20261130_001.txt.p7m", 10),
        ("CARDSTATUS_BOCSZ_20261130_001.txt.p7m", 0),
    ]
    assert abs(files[0].mtime.timestamp() - (outbox / files[0].name).stat().st_mtime) < 2


def test_download_spools_the_file_with_its_sha256(
    sftp_endpoint: SftpEndpoint, sftp_client_key, tmp_path: Path
):
    data = os.urandom(1_234_567)
    name = "SWIPE_BOCSZ_20261130_001.txt.p7m"
    (sftp_endpoint.folder / "outbox" / name).write_bytes(data)
    (sftp_endpoint.folder / "outbox" / "EMPTY_BOCSZ_20261130_001.txt.p7m").write_bytes(b"")
    spool = tmp_path / "spool"
    with transport(sftp_endpoint, sftp_client_key) as t:
        got = t.download(name, spool)
        empty = t.download("EMPTY_BOCSZ_20261130_001.txt.p7m", spool)
        t.delete(name)
        with pytest.raises(RemoteFileError, match="download of MISSING"):
            t.download("MISSING_BOCSZ_20261130_001.txt.p7m", spool)
    assert got.path == spool / name and got.path.read_bytes() == data
    assert got.sha256 == hashlib.sha256(data).hexdigest() and got.size == len(data)
    assert empty.size == 0 and empty.sha256 == hashlib.sha256(b"").hexdigest()
    assert sorted(p.name for p in spool.iterdir()) == [
        "EMPTY_BOCSZ_20261130_001.txt.p7m",
        name,
    ]  # no temp left
    assert not (sftp_endpoint.folder / "outbox" / name).exists()


def test_unknown_host_key_refused_at_once(sftp_endpoint: SftpEndpoint, sftp_client_key, caplog):
    other = generate_host_key()
    sleeps = Sleeps()
    t = SftpTransport(
        sftp_endpoint.url, sftp_client_key.key, [other], timeout=5, partner="BOCSZ", sleep=sleeps
    )
    with (
        caplog.at_level(logging.ERROR, logger="svcard.alert"),
        pytest.raises(HostKeyError, match="not pinned"),
    ):
        t.list_outbox()
    assert sleeps == []  # never retried
    alerts = [r for r in caplog.records if r.name == "svcard.alert"]
    assert len(alerts) == 1 and "BOCSZ" in alerts[0].getMessage() and "SHA256:" in alerts[0].getMessage()


def test_changed_host_key_type_refused(sftp_endpoint: SftpEndpoint, sftp_client_key):
    # Pinned: an RSA key; the server has only Ed25519 -> it cannot show a pinned key.
    rsa = paramiko.RSAKey.generate(1024)
    with pytest.raises(HostKeyError):
        SftpTransport(sftp_endpoint.url, sftp_client_key.key, [rsa], timeout=5, sleep=Sleeps()).list_outbox()


def test_wrong_client_key_refused_at_once(sftp_endpoint: SftpEndpoint, caplog):
    stranger = new_client_key()
    sleeps = Sleeps()
    with (
        caplog.at_level(logging.ERROR, logger="svcard.alert"),
        pytest.raises(AuthError, match="refused our client key"),
    ):
        transport(sftp_endpoint, stranger, sleep=sleeps).upload(b"x", NAME)
    assert sleeps == []
    assert any(r.name == "svcard.alert" for r in caplog.records)
    assert not (sftp_endpoint.folder / "inbox" / NAME).exists()


@pytest.mark.parametrize("kind", ["sandbox", "openssh"])
def test_network_failure_retried_with_backoff(kind: str, sftp_client_key: ClientKey, tmp_path: Path, request):
    # The server is down for the first two attempts, then comes up.
    port = free_port()
    if kind == "sandbox":
        server = SandboxSftpServer(tmp_path, [sftp_client_key.key], port=port)
        url, host_key = server.url("bocsz"), server.host_key
    else:
        request.getfixturevalue("openssh_sftpd")  # skips/fails if sshd is unavailable
        server = OpenSshServer([sftp_client_key.public_line], base_dir=tmp_path)
        server.port = port
        server.start(port=port)  # creates the host key, then down again until the 2nd retry
        server.stop(remove=False)
        url = server.url
        from tests.integration.conftest import public_key

        host_key = public_key(server.host_public_key)

    def come_up() -> None:
        server.start(port=port) if kind == "openssh" else server.start()

    sleeps = Sleeps(on_call={2: come_up})
    try:
        t = SftpTransport(
            url, sftp_client_key.key, [host_key], timeout=5, retry_base_delay=0.01, sleep=sleeps
        )
        with t:
            assert t.list_outbox() == []
    finally:
        server.stop()
    assert sleeps == [0.01, 0.02]  # exponential back-off, then success


def test_retries_exhausted_is_a_transient_error(sftp_client_key: ClientKey):
    sleeps = Sleeps()
    t = SftpTransport(
        f"sftp://bocsz@127.0.0.1:{free_port()}", sftp_client_key.key, [generate_host_key()],
        timeout=2, retry_attempts=4, retry_base_delay=0.5, partner="BOCSZ", sleep=sleeps,
    )  # fmt: skip
    with pytest.raises(TransientError, match="after 4 attempts: cannot connect"):
        t.upload(b"x", NAME)
    assert sleeps == [0.5, 1.0, 2.0]


def test_silent_server_times_out_and_is_retried(sftp_client_key: ClientKey):
    # A server that accepts the connection and then says nothing (no SSH banner).
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    sleeps = Sleeps()
    t = SftpTransport(
        f"sftp://bocsz@127.0.0.1:{silent.getsockname()[1]}", sftp_client_key.key, [generate_host_key()],
        timeout=0.3, retry_attempts=2, retry_base_delay=0.01, sleep=sleeps,
    )  # fmt: skip
    start = time.monotonic()
    try:
        with pytest.raises(TransientError, match="after 2 attempts"):
            t.list_outbox()
    finally:
        silent.close()
    assert sleeps == [0.01]
    assert time.monotonic() - start < 5


def test_local_failures_are_ours_and_leave_the_connection_usable(
    sftp_endpoint: SftpEndpoint, sftp_client_key: ClientKey, tmp_path: Path
):
    import resource
    import signal

    from adapters.sftp import LocalFileError

    name = "SWIPE_BOCSZ_20261130_001.txt.p7m"
    data = os.urandom(2_000_000)
    (sftp_endpoint.folder / "outbox" / name).write_bytes(data)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"")
    sleeps = Sleeps()
    with transport(sftp_endpoint, sftp_client_key, sleep=sleeps) as t:
        with pytest.raises(LocalFileError, match="local file"):
            t.upload(tmp_path / "missing.p7m", NAME)
        with pytest.raises(LocalFileError, match="local file"):
            t.download(name, not_a_dir / "spool")
        assert [f.name for f in t.list_outbox()] == [name]
        conn = t._transport
        # The spool disk fills up in the middle of a download (a file size limit, EFBIG).
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (500_000, hard))
        try:
            with pytest.raises(LocalFileError, match="local file"):
                t.download(name, tmp_path / "spool")
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, old)
        assert list((tmp_path / "spool").iterdir()) == []  # no partial file left
        got = t.download(name, tmp_path / "spool")  # same connection, still in step
        assert t._transport is conn is not None
    assert got.sha256 == hashlib.sha256(data).hexdigest()
    assert sleeps == []


def test_dropped_connection_is_reopened(sftp_client_key: ClientKey, tmp_path: Path):
    server = SandboxSftpServer(tmp_path, [sftp_client_key.key], port=free_port())
    server.start()
    sleeps = Sleeps()
    try:
        with SftpTransport(server.url("bocsz"), sftp_client_key.key, [server.host_key], timeout=5,
                           retry_base_delay=0.01, sleep=sleeps) as t:  # fmt: skip
            assert t.list_outbox() == []
            server.stop()  # drops every session
            server.start()  # same port, same host key
            (server.folder("bocsz") / "outbox" / "ACK_BOCSZ_20261130_001.txt.p7m").write_bytes(b"ack")
            assert [f.name for f in t.list_outbox()] == ["ACK_BOCSZ_20261130_001.txt.p7m"]
    finally:
        server.stop()
    assert sleeps == [0.01]


def test_finding_13_each_write_request_goes_in_one_ssh_packet(
    sftp_endpoint: SftpEndpoint, sftp_client_key: ClientKey
):
    # paramiko puts at most out_max_packet_size - 64 bytes of channel data in a packet: a
    # write request a few bytes over that went as two packets (a full one and a tiny one),
    # doubling the per-packet cost of every upload (issue 19, finding 13).
    data = os.urandom(4 * 2**20)
    with transport(sftp_endpoint, sftp_client_key) as t:
        t.upload(b"x", "ACK_SVA_20261130_001.txt.p7m")  # connected; the counter starts now
        packetizer = t._transport.packetizer
        sent: list[int] = []
        real = packetizer.send_message

        def counting(message):
            sent.append(len(message.asbytes()))
            return real(message)

        packetizer.send_message = counting
        try:
            t.upload(data, NAME)
        finally:
            packetizer.send_message = real
        block = t._bulk.last_write_block
    writes = -(-len(data) // block)
    # one packet per write, plus a few for open, close, rename, stat and window traffic
    assert len(sent) <= writes + 16, (len(sent), writes)
