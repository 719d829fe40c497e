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
import stat
import struct
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TypeVar

import paramiko

from adapters.sftp_connect import Retry, connect, pinned_keys
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
from adapters.sftp_url import SAFE_NAME, SftpUrl, check_name, parse_sftp_url
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

T = TypeVar("T")


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
        self._pinned = pinned_keys(self.url, host_keys, label)
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

    def _connect(self) -> None:
        c = connect(self.url, self._client_key, self._pinned, self.timeout, self._alert)
        self._transport, self._sftp, self._bulk, self.negotiated = c.transport, c.sftp, c.bulk, c.negotiated

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
            except Retry as exc:
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
        check_name(name)
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
                if not SAFE_NAME.fullmatch(name) or ".." in name:
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
        check_name(name)
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
                        raise Retry(f"{name} changed while downloading ({expected} then {got} bytes)")
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
        check_name(name)
        self._run(f"deletion of {name}", lambda sftp: sftp.remove(self._path("outbox", name)))


@contextlib.contextmanager
def _local(label: str, what: str) -> Iterator[None]:
    """Report an OSError of our own disk as a LocalFileError, not as the server's."""
    try:
        yield
    except OSError as exc:
        raise LocalFileError(f"partner {label}: {what}: local file: {exc.strerror or exc}") from None
