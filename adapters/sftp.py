"""SFTP transport to a partner (partners/README.md, "Transport, SFTP").

One :class:`SftpTransport` per partner account::

    t = SftpTransport("sftp://sva@sftp.bank.example:22/exchange", client_key, [host_key],
                      timeout=30, partner="BOCSZ")
    with t:
        t.upload(b"...", "CARDORDER_SVA_20261130_001.zip.p7m")   # inbox/<name>.part -> inbox/<name>
        for f in t.list_outbox():                                # outbox/, *.part ignored
            got = t.download(f.name, spool_dir)                  # Downloaded(path, sha256, size)

Security: our key only (no password, agent or ~/.ssh); the server's host key must be one
of the pinned keys, else :class:`HostKeyError` at once, never retried, with an alert on
the ``svcard.alert`` logger; a refused client key is an :class:`AuthError`, handled the
same way. Network failures are retried with exponential backoff and end, if they outlast
every attempt, in a :class:`TransientError`. The server refusing an operation is a
:class:`RemoteFileError`, our own disk failing a :class:`LocalFileError`, a short upload
an :class:`UploadError`, a bad setting a :class:`SftpConfigError`; all are
:class:`SftpError` with a stable ``code``, and no paramiko exception leaves this module.
A transport object is for one thread at a time; it keeps its connection open between
calls until ``close()`` (or the end of a ``with`` block).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import posixpath
import re
import socket
import stat
import struct
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import unquote, urlsplit

import paramiko

from adapters import sftp_pipe
from adapters.sftp_errors import (
    AuthError,
    HostKeyError,
    LocalFileError,
    RemoteFileError,
    SftpConfigError,
    SftpError,
    TransientError,
    UploadError,
)
from adapters.sftp_wire import BulkIO, LocalIOError, RemoteStatus
from adapters.transport import Downloaded, RemoteFile

__all__ = [
    "AuthError",
    "Downloaded",
    "HostKeyError",
    "LocalFileError",
    "RemoteFile",
    "RemoteFileError",
    "SftpConfigError",
    "SftpError",
    "SftpTransport",
    "SftpUrl",
    "TransientError",
    "UploadError",
    "parse_sftp_url",
]

log = logging.getLogger(__name__)
alert = logging.getLogger("svcard.alert")

# Fastest first; CBC, 3DES, MD5 and SHA-1-96 are never offered.
CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr", "aes192-ctr")
MACS = ("hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512")
# Flow control: a 16 MiB window and 256 KiB packets let the server stream a download
# without waiting for window adjustments (OpenSSH accepts packets up to 256 KiB).
WINDOW_SIZE = 16 * 2**20
MAX_PACKET_SIZE = 256 * 2**10
# Per-request sizes when the server does not announce limits@openssh.com (the SFTP
# draft's guaranteed 32 KiB).
DEFAULT_REQUEST_SIZE = 32 * 2**10
MAX_READ_SIZE = 255 * 2**10
PIPELINE_DEPTH = 64

_HOSTKEY_ALGS = {
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256"),
}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}")

T = TypeVar("T")


@dataclass(frozen=True)
class SftpUrl:
    user: str
    host: str
    port: int
    path: str  # "" = the login folder; otherwise the remote folder holding inbox/ and outbox/


def _setting(partner: str | None) -> str:
    return f"SVCARD_PARTNER_{partner.upper()}_URL" if partner else "the SFTP URL"


def parse_sftp_url(url: str, partner: str | None = None) -> SftpUrl:
    """Parse ``sftp://USER@HOST[:PORT][/PATH]`` strictly.

    PATH is taken as an absolute remote path (as curl does); ``/~/x`` or an empty path
    is relative to the login folder. Passwords, queries and fragments are refused: the
    key comes from the keystore, never from the URL.
    """
    where = _setting(partner)
    if not isinstance(url, str) or not url.strip():
        raise SftpConfigError(f"{where} is empty; expected sftp://USER@HOST:PORT/PATH")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise SftpConfigError(
            f"{where} is not a valid URL ({exc}); expected sftp://USER@HOST:PORT/PATH"
        ) from None
    if parts.scheme != "sftp":
        raise SftpConfigError(f"{where} must start with sftp:// (got scheme {parts.scheme or 'none'!r})")
    if parts.password is not None:
        raise SftpConfigError(f"{where} must not contain a password; the client key is used")
    if not parts.username:
        raise SftpConfigError(f"{where} has no user; expected sftp://USER@HOST:PORT/PATH")
    if not parts.hostname:
        raise SftpConfigError(f"{where} has no host; expected sftp://USER@HOST:PORT/PATH")
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        raise SftpConfigError(f"{where} must not have a query or fragment")
    if port == 0:
        raise SftpConfigError(f"{where} has port 0; expected 1-65535")
    path = unquote(parts.path)
    if any(ord(c) < 32 for c in path) or any(p == ".." for p in path.split("/")):
        raise SftpConfigError(f"{where} has an invalid path (control character or '..')")
    if path in ("", "/", "/~", "/~/"):
        path = ""
    elif path.startswith("/~/"):
        path = path[3:].rstrip("/")
    else:
        path = path.rstrip("/") or "/"
    return SftpUrl(user=unquote(parts.username), host=parts.hostname, port=port or 22, path=path)


def _check_name(name: str) -> str:
    """A partner file name is a plain name: no folder, no dot-file, no control character."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or ".." in name:
        raise SftpError(f"invalid remote file name {name!r}: letters, digits, '_', '-', '.' only")
    return name


def _fingerprint(key: paramiko.PKey) -> str:
    return key.fingerprint  # "SHA256:..." of the public key; never key material


class SftpTransport:
    """A partner's SFTP account: upload to ``inbox/``, list and download ``outbox/``.

    ``client_key``: our private key (a ``paramiko.PKey``). ``host_keys``: the partner's
    pinned host keys, a list of ``paramiko.PKey`` or a ``paramiko.HostKeys`` (looked up as
    ``HOST`` and ``[HOST]:PORT``). ``timeout`` bounds connecting, the handshake,
    authentication and each network wait of an operation. A network failure is retried
    ``retry_attempts`` times in all, after ``retry_base_delay * 2**n`` seconds.
    ``partner`` (e.g. ``"BOCSZ"``) names the setting in configuration errors and alerts.
    """

    def __init__(
        self,
        url: str,
        client_key: paramiko.PKey,
        host_keys: Sequence[paramiko.PKey] | paramiko.HostKeys,
        timeout: float = 30.0,
        retry_attempts: int = 5,
        retry_base_delay: float = 1.0,
        partner: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = parse_sftp_url(url, partner)
        self.partner = partner
        label = partner or f"{self.url.host}:{self.url.port}"
        self._label = label
        if not isinstance(client_key, paramiko.PKey) or not client_key.can_sign():
            raise SftpConfigError(f"SFTP client key for {label} must be a private paramiko key")
        self._client_key = client_key
        self._pinned = self._pinned_keys(host_keys)
        if not self._pinned:
            raise SftpConfigError(f"no pinned SFTP host key for {label}; trust the partner's host key first")
        if timeout <= 0 or retry_attempts < 1 or retry_base_delay < 0:
            raise SftpConfigError("timeout must be > 0, retry_attempts >= 1 and retry_base_delay >= 0")
        self.timeout = float(timeout)
        self.retry_attempts = retry_attempts
        self.retry_base_delay = retry_base_delay
        self._sleep = sleep
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._bulk: BulkIO | None = None
        self.negotiated: dict[str, str] = {}  # cipher and MAC of the open connection, for the bench

    # -- connection ---------------------------------------------------------------------

    def _pinned_keys(self, host_keys: Sequence[paramiko.PKey] | paramiko.HostKeys) -> list[paramiko.PKey]:
        if isinstance(host_keys, paramiko.HostKeys):
            names = [self.url.host, f"[{self.url.host}]:{self.url.port}"]
            found: list[paramiko.PKey] = []
            for n in names:
                entry = host_keys.lookup(n)
                if entry:
                    found.extend(entry.values())
            return found
        keys = list(host_keys)
        for k in keys:
            if not isinstance(k, paramiko.PKey):
                raise SftpConfigError(f"pinned host keys for {self._label} must be paramiko keys")
        return keys

    def _host_key_types(self) -> tuple[str, ...]:
        types: list[str] = []
        for key in self._pinned:
            for alg in _HOSTKEY_ALGS.get(key.get_name(), (key.get_name(),)):
                if alg not in types:
                    types.append(alg)
        return tuple(types)

    def _connect(self) -> None:
        u = self.url
        try:
            sock = socket.create_connection((u.host, u.port), timeout=self.timeout)
        except OSError as exc:
            raise _Retry(f"cannot connect to {u.host}:{u.port}: {exc.strerror or exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = paramiko.Transport(sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET_SIZE)
        try:
            t.banner_timeout = t.handshake_timeout = t.auth_timeout = self.timeout
            opts = t.get_security_options()
            opts.ciphers = tuple(c for c in CIPHERS if c in t._preferred_ciphers)
            opts.digests = tuple(m for m in MACS if m in t._preferred_macs)
            # Ask only for the pinned key types, so the server shows the key we can check.
            opts.key_types = (
                tuple(k for k in self._host_key_types() if k in t._preferred_keys) or opts.key_types
            )
            t.start_client(timeout=self.timeout)
            self._check_host_key(t.get_remote_server_key())
            try:
                t.auth_publickey(u.user, self._client_key)
            except paramiko.AuthenticationException:
                msg = f"SFTP server {u.host}:{u.port} refused our client key for user {u.user!r}"
                raise self._alert(AuthError, msg) from None
            if not t.is_authenticated():
                raise self._alert(
                    AuthError, f"SFTP server {u.host}:{u.port} did not authenticate user {u.user!r}"
                )
            sftp = paramiko.SFTPClient.from_transport(
                t, window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET_SIZE
            )
            if sftp is None:
                raise _Retry("SFTP subsystem could not be opened")
            chan = sftp.get_channel()
            chan.settimeout(self.timeout)
            read_size, write_size = self._request_sizes(sftp, chan)
            # Nothing is in flight now: swap in the no-copy receive buffer (speed only).
            sftp_pipe.install(chan)
            self._bulk = BulkIO(
                chan,
                read_size=read_size,
                write_size=write_size,
                depth=PIPELINE_DEPTH,
                # paramiko puts at most out_max_packet_size - 64 bytes in one packet
                max_message=chan.out_max_packet_size - 64,
            )
            gcm = "gcm" in t.remote_cipher
            self.negotiated = {"cipher": t.remote_cipher, "mac": "implicit (AEAD)" if gcm else t.remote_mac}
        except BaseException:
            t.close()
            raise
        self._transport, self._sftp = t, sftp

    def _request_sizes(self, sftp: paramiko.SFTPClient, chan: paramiko.Channel) -> tuple[int, int]:
        read = write = DEFAULT_REQUEST_SIZE
        with contextlib.suppress(OSError):
            # OpenSSH's limits@openssh.com: max packet, read and write lengths, handles.
            kind, msg = sftp._request(paramiko.sftp.CMD_EXTENDED, "limits@openssh.com")
            if kind == paramiko.sftp.CMD_EXTENDED_REPLY:
                msg.get_int64()
                read = max(DEFAULT_REQUEST_SIZE, min(msg.get_int64(), MAX_READ_SIZE))
                write = max(DEFAULT_REQUEST_SIZE, min(msg.get_int64(), MAX_READ_SIZE))
        # A write that fits one channel packet avoids a tiny second packet per request.
        write = max(4096, min(write, chan.out_max_packet_size - 64))
        return read, write

    def _check_host_key(self, key: paramiko.PKey) -> None:
        blob = key.asbytes()
        if any(p.asbytes() == blob for p in self._pinned):
            return
        raise self._alert(
            HostKeyError,
            f"SFTP host key of {self.url.host}:{self.url.port} is not pinned (unknown or changed): "
            f"server offered {key.get_name()} {_fingerprint(key)}; connection refused",
        )

    def _alert(self, kind: type[SftpError], message: str) -> SftpError:
        """Log ``message`` on the alert logger and return the error to raise."""
        text = f"partner {self._label}: {message}"
        alert.error(text)
        return kind(text)

    def close(self) -> None:
        t, self._transport, self._sftp, self._bulk = self._transport, None, None, None
        if t is not None:
            with contextlib.suppress(Exception):
                t.close()

    def __enter__(self) -> SftpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- retry wrapper ------------------------------------------------------------------

    def _run(self, what: str, op: Callable[[paramiko.SFTPClient], T]) -> T:
        last = ""
        for attempt in range(self.retry_attempts):
            if attempt:
                delay = self.retry_base_delay * 2 ** (attempt - 1)
                log.warning(
                    "partner %s: SFTP %s failed (%s); retry %d/%d in %.1fs",
                    self._label, what, last, attempt, self.retry_attempts - 1, delay,
                )  # fmt: skip
                self._sleep(delay)
            try:
                return self._attempt(op)
            except SftpError:
                if not self._alive():
                    self.close()
                raise
            except _Retry as exc:
                last = str(exc)
            except RemoteStatus as exc:
                raise RemoteFileError(f"partner {self._label}: {what}: {exc}") from None
            except LocalIOError as exc:
                raise LocalFileError(f"partner {self._label}: {what}: local file: {exc}") from None
            except paramiko.AuthenticationException as exc:
                self.close()
                raise self._alert(AuthError, f"authentication failed: {type(exc).__name__}") from None
            except paramiko.ssh_exception.IncompatiblePeer as exc:
                self.close()
                if "host key" in str(exc):
                    # The server has none of the pinned key types: a changed host key.
                    msg = (
                        f"SFTP server {self.url.host}:{self.url.port} offers no pinned host key type ({exc})"
                    )
                    raise self._alert(HostKeyError, msg) from None
                raise SftpError(f"partner {self._label}: no common SSH algorithm: {exc}") from None
            except (EOFError, TimeoutError, paramiko.SSHException, paramiko.SFTPError, struct.error) as exc:
                # (SFTPError and struct.error: a garbled or out-of-step SFTP stream.)
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except OSError as exc:
                # paramiko reports an SFTP status as an OSError too; a live connection
                # means the server refused the operation, a dead one a network failure.
                if self._alive():
                    raise RemoteFileError(f"partner {self._label}: {what}: {exc.strerror or exc}") from None
                last = f"{type(exc).__name__}: {exc}"
            self.close()
        raise TransientError(
            f"partner {self._label}: SFTP {what} failed after {self.retry_attempts} attempts: {last}"
        )

    def _attempt(self, op: Callable[[paramiko.SFTPClient], T]) -> T:
        try:
            if self._sftp is None:
                self._connect()
            assert self._sftp is not None
            return op(self._sftp)
        except BaseException:
            # A bulk transfer cut short may leave part of a response in the channel.
            if self._bulk is not None and not self._bulk.clean:
                self.close()
            raise

    def _alive(self) -> bool:
        t = self._transport
        return t is not None and t.is_active() and self._sftp is not None and not self._sftp.sock.closed

    def _path(self, *parts: str) -> str:
        return posixpath.join(self.url.path, *parts) if self.url.path else posixpath.join(*parts)

    # -- operations ---------------------------------------------------------------------

    def upload(self, source: bytes | str | os.PathLike[str], name: str) -> int:
        """Upload ``source`` (bytes or a local file) as ``inbox/<name>``; returns the size.

        Written as ``inbox/<name>.part``, renamed to ``inbox/<name>`` (replacing a copy
        left by an earlier attempt), then stat'ed: a size that differs is an UploadError.
        """
        _check_name(name)
        if name.endswith(".part"):
            raise SftpError(f"invalid remote file name {name!r}: .part is reserved for uploads in progress")
        if isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
            size = len(data)

            def opener() -> BinaryIO:
                return io.BytesIO(data)
        else:
            local = Path(source)
            with _local(self._label, f"upload of {name}"):
                size = local.stat().st_size

            def opener() -> BinaryIO:
                return open(local, "rb")  # noqa: SIM115 - closed by the caller below

        part, final = self._path("inbox", name + ".part"), self._path("inbox", name)

        def op(sftp: paramiko.SFTPClient) -> int:
            assert self._bulk is not None
            with _local(self._label, f"upload of {name}"):
                src = opener()
            with src, sftp.open(part, "wb") as remote:
                sent = self._bulk.write_all(remote.handle, src)
            if sent != size:
                raise UploadError(f"partner {self._label}: {name}: local source changed while uploading")
            self._rename(sftp, part, final)
            remote_size = sftp.stat(final).st_size
            if remote_size != size:
                raise UploadError(
                    f"partner {self._label}: upload of {name} incomplete: server has {remote_size} bytes, sent {size}"
                )
            log.info("partner %s: uploaded inbox/%s (%d bytes)", self._label, name, size)
            return size

        return self._run(f"upload of {name}", op)

    def _rename(self, sftp: paramiko.SFTPClient, src: str, dst: str) -> None:
        try:
            sftp.posix_rename(src, dst)  # atomic replace, where the server offers it
            return
        except OSError:
            if not self._alive():
                raise
        try:
            sftp.rename(src, dst)
        except OSError:
            if not self._alive():
                raise
            # Plain SFTP rename refuses an existing target: a copy from an earlier
            # attempt whose confirmation was lost. Replace it.
            sftp.remove(dst)
            sftp.rename(src, dst)

    def list_outbox(self) -> list[RemoteFile]:
        """Regular files in ``outbox/``, sorted by name; ``*.part`` and odd names skipped."""

        def op(sftp: paramiko.SFTPClient) -> list[RemoteFile]:
            out = []
            for a in sftp.listdir_attr(self._path("outbox")):
                name = a.filename
                if name.endswith(".part") or name in (".", ".."):
                    continue
                if a.st_mode is not None and not stat.S_ISREG(a.st_mode):
                    continue
                if not _SAFE_NAME.fullmatch(name) or ".." in name:
                    log.warning(
                        "partner %s: outbox entry with an unusable name skipped: %r", self._label, name
                    )
                    continue
                mtime = datetime.fromtimestamp(a.st_mtime or 0, tz=UTC)
                out.append(RemoteFile(name=name, size=a.st_size or 0, mtime=mtime))
            return sorted(out, key=lambda f: f.name)

        return self._run("listing of outbox", op)

    def download(self, name: str, spool_dir: str | os.PathLike[str], fsync: bool = True) -> Downloaded:
        """Fetch ``outbox/<name>`` to ``spool_dir/<name>``, hashing it on the way.

        The bytes go to a temporary file in ``spool_dir`` that is renamed into place only
        once complete (and, with ``fsync``, on disk), so a crash leaves no partial file
        under the real name. A file that changes size while it is read is retried.
        """
        _check_name(name)
        spool = Path(spool_dir)
        with _local(self._label, f"download of {name}"):
            spool.mkdir(parents=True, exist_ok=True)
        remote = self._path("outbox", name)

        def op(sftp: paramiko.SFTPClient) -> Downloaded:
            assert self._bulk is not None
            with _local(self._label, f"download of {name}"):
                fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=spool)
            try:
                digest = hashlib.sha256()
                with os.fdopen(fd, "wb") as out:
                    with sftp.open(remote, "rb") as rf:
                        expected = rf.stat().st_size or 0

                        def sink(block: memoryview) -> None:
                            digest.update(block)
                            out.write(block)

                        got = self._bulk.read_all(rf.handle, expected, sink)
                    if got != expected:
                        raise _Retry(f"{name} changed while downloading ({expected} then {got} bytes)")
                    with _local(self._label, f"download of {name}"):
                        out.flush()
                        if fsync:
                            os.fsync(out.fileno())
                final = spool / name
                with _local(self._label, f"download of {name}"):
                    os.replace(tmp, final)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            log.info("partner %s: downloaded outbox/%s (%d bytes)", self._label, name, got)
            return Downloaded(path=final, sha256=digest.hexdigest(), size=got)

        return self._run(f"download of {name}", op)

    def delete(self, name: str) -> None:
        """Remove ``outbox/<name>`` (only once it is safely stored; never relied upon)."""
        _check_name(name)
        self._run(f"deletion of {name}", lambda sftp: sftp.remove(self._path("outbox", name)))


class _Retry(Exception):
    """Internal: a failure worth another attempt."""


@contextlib.contextmanager
def _local(label: str, what: str) -> Iterator[None]:
    """Report an OSError of our own disk as a LocalFileError, not as the server's."""
    try:
        yield
    except OSError as exc:
        raise LocalFileError(f"partner {label}: {what}: local file: {exc.strerror or exc}") from None
