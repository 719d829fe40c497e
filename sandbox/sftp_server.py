"""The sandbox partners' SFTP server: paramiko's server side on a loopback port.

Design: one account per partner. The account's user name is the partner id in lower case
(``bocsz``, ``szt``, ``szvf``) unless ``accounts`` maps other names; its folder is
``<base_dir>/<PARTNER>`` holding ``inbox/`` (files to the partner) and ``outbox/`` (files
from it), and it is the account's root: the client sees it as ``/`` and as its login
folder, so the partner URL is ``sftp://bocsz@127.0.0.1:PORT`` (empty path). Every path is
confined to that root: ``..`` is refused, and a path that resolves (through a symlink)
outside the root is refused as if it did not exist.

Authentication is by public key only, against the client keys given at start. The server
has its own host key (a fresh Ed25519 key unless one is given); publish
``host_key_line`` to the gateway as the partner's pinned host key.

Runs in background threads: ``start()`` binds and returns, ``port`` is then set,
``stop()`` closes the listener and every session. Only ``schemas`` and ``keys`` may be
imported from our code here, never ``gateway`` or ``adapters``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ParamSpec, TypeVar

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from paramiko.sftp import SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_OK, SFTP_PERMISSION_DENIED

log = logging.getLogger(__name__)

DEFAULT_PARTNERS = ("BOCSZ", "SZT", "SZVF")

P = ParamSpec("P")
R = TypeVar("R")


def _new_host_key_pem() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )


def generate_host_key() -> paramiko.Ed25519Key:
    """A fresh Ed25519 host key (paramiko cannot generate Ed25519 keys itself)."""
    return paramiko.Ed25519Key.from_private_key(io.StringIO(_new_host_key_pem().decode("ascii")))


def load_or_create_host_key(path: str | os.PathLike[str]) -> paramiko.Ed25519Key:
    """The host key kept in ``path`` (OpenSSH format), created there (mode 0600) if missing.

    A sandbox that keeps its host key across restarts stays pinned by the gateway.
    """
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(_new_host_key_pem())
    return paramiko.Ed25519Key.from_private_key_file(str(p))


class _Denied(Exception):
    """A path outside the account root."""


class _Account:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def real(self, path: str, follow: bool = True) -> str:
        """The local path for client ``path``; refuses ``..`` and escapes via symlinks.

        With ``follow=False`` the last component is not resolved (lstat, remove, rename
        act on a link itself), but its folder must still be inside the root.
        """
        if "\x00" in path:
            raise _Denied(path)
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        if ".." in parts:
            raise _Denied(path)
        local = self.root.joinpath(*parts)
        if follow:
            resolved = Path(os.path.realpath(local))
        else:
            resolved = Path(os.path.realpath(local.parent)) / local.name if parts else self.root
        if resolved != self.root and self.root not in resolved.parents:
            raise _Denied(path)
        return str(local if not follow else resolved)


def _answers_status(op: Callable[P, R]) -> Callable[P, R | int]:
    """An SFTP operation whose failures are answered as SFTP status codes: a path outside
    the account is ``PERMISSION_DENIED``, an OSError its errno's status."""

    @functools.wraps(op)
    def answer(*args: P.args, **kwargs: P.kwargs) -> R | int:
        try:
            return op(*args, **kwargs)
        except _Denied:
            return SFTP_PERMISSION_DENIED
        except OSError as e:
            return paramiko.SFTPServer.convert_errno(e.errno)

    return answer


class _Handle(paramiko.SFTPHandle):
    @_answers_status
    def stat(self) -> paramiko.SFTPAttributes:
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        return SFTP_OK  # attributes are not kept in the sandbox


class _SftpInterface(paramiko.SFTPServerInterface):
    def __init__(self, server: _SshServer, *args: object, **kwargs: object) -> None:
        super().__init__(server, *args, **kwargs)
        self.account: _Account = server.account  # type: ignore[assignment]

    def canonicalize(self, path: str) -> str:
        parts = [p for p in path.split("/") if p not in ("", ".")]
        out: list[str] = []
        for p in parts:
            if p == "..":
                if out:
                    out.pop()
            else:
                out.append(p)
        return "/" + "/".join(out)

    @_answers_status
    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes]:
        real = self.account.real(path)
        out = []
        for name in os.listdir(real):
            attr = paramiko.SFTPAttributes.from_stat(os.lstat(os.path.join(real, name)))
            attr.filename = name
            out.append(attr)
        return out

    @_answers_status
    def stat(self, path: str) -> paramiko.SFTPAttributes:
        return paramiko.SFTPAttributes.from_stat(os.stat(self.account.real(path)))

    @_answers_status
    def lstat(self, path: str) -> paramiko.SFTPAttributes:
        return paramiko.SFTPAttributes.from_stat(os.lstat(self.account.real(path, follow=False)))

    @_answers_status
    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> paramiko.SFTPHandle:
        real = self.account.real(path)
        # O_NOFOLLOW: a symlink created after the check must not be followed out.
        fd = os.open(real, flags | getattr(os, "O_NOFOLLOW", 0), 0o644)
        if flags & os.O_WRONLY:
            mode = "ab" if flags & os.O_APPEND else "wb"
        elif flags & os.O_RDWR:
            mode = "a+b" if flags & os.O_APPEND else "r+b"
        else:
            mode = "rb"
        try:
            f = os.fdopen(fd, mode)
        except OSError:
            os.close(fd)
            raise
        handle = _Handle(flags)
        handle.filename = real
        handle.readfile = f
        handle.writefile = f
        return handle

    @_answers_status
    def remove(self, path: str) -> int:
        os.remove(self.account.real(path, follow=False))
        return SFTP_OK

    @_answers_status
    def rename(self, oldpath: str, newpath: str) -> int:
        # SFTP v3 rename must not replace an existing file.
        src, dst = self.account.real(oldpath, follow=False), self.account.real(newpath, follow=False)
        if os.path.lexists(dst):
            return SFTP_FAILURE
        os.rename(src, dst)
        return SFTP_OK

    @_answers_status
    def posix_rename(self, oldpath: str, newpath: str) -> int:
        os.replace(self.account.real(oldpath, follow=False), self.account.real(newpath, follow=False))
        return SFTP_OK

    @_answers_status
    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        os.mkdir(self.account.real(path, follow=False))
        return SFTP_OK

    @_answers_status
    def rmdir(self, path: str) -> int:
        os.rmdir(self.account.real(path, follow=False))
        return SFTP_OK

    @_answers_status
    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        return SFTP_OK if os.path.exists(self.account.real(path)) else SFTP_NO_SUCH_FILE

    def readlink(self, path: str) -> str | int:
        return SFTP_PERMISSION_DENIED  # links are not part of the exchange

    def symlink(self, target_path: str, path: str) -> int:
        return SFTP_PERMISSION_DENIED


class _SshServer(paramiko.ServerInterface):
    def __init__(self, accounts: Mapping[str, Path], authorized: Sequence[paramiko.PKey]) -> None:
        self._accounts = accounts
        self._authorized = {k.asbytes() for k in authorized}
        self.account: _Account | None = None

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_none(self, username: str) -> int:
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        root = self._accounts.get(username)
        if root is None or key.asbytes() not in self._authorized:
            log.warning("sandbox sftp: refused key %s for user %r", key.fingerprint, username)
            return paramiko.AUTH_FAILED
        self.account = _Account(root)
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session" and self.account is not None:
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        return name == "sftp" and super().check_channel_subsystem_request(channel, name)


class SandboxSftpServer:
    """The sandbox SFTP server. See the module docstring for the account layout.

    ``accounts`` maps user name to partner id; by default each partner id of
    ``partners`` in lower case. ``authorized_keys`` are the client public keys allowed
    to log in (to every account).
    """

    def __init__(
        self,
        base_dir: str | os.PathLike[str],
        authorized_keys: Sequence[paramiko.PKey],
        partners: Sequence[str] = DEFAULT_PARTNERS,
        accounts: Mapping[str, str] | None = None,
        host_key: paramiko.PKey | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.base_dir = Path(base_dir)
        accounts = dict(accounts) if accounts is not None else {p.lower(): p for p in partners}
        self.accounts = {user: self.base_dir / partner for user, partner in accounts.items()}
        self.authorized_keys = list(authorized_keys)
        self.host_key = host_key or generate_host_key()
        self.host = host
        self.port = port
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._transports: set[paramiko.Transport] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def host_key_line(self) -> str:
        """The host public key in OpenSSH form (``ssh-ed25519 AAAA...``)."""
        return f"{self.host_key.get_name()} {self.host_key.get_base64()}"

    def url(self, user: str) -> str:
        return f"sftp://{user}@{self.host}:{self.port}"

    def folder(self, user: str) -> Path:
        """The local folder of an account (holding ``inbox/`` and ``outbox/``)."""
        return self.accounts[user]

    def start(self) -> None:
        for root in self.accounts.values():
            for sub in ("inbox", "outbox"):
                (root / sub).mkdir(parents=True, exist_ok=True)
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((self.host, self.port))
        lsock.listen(64)
        lsock.settimeout(0.2)
        self.port = lsock.getsockname()[1]
        self._listener = lsock
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name=f"sandbox-sftp-{self.port}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            conn.settimeout(None)
            try:
                t = paramiko.Transport(conn)
                t.add_server_key(self.host_key)
                t.set_subsystem_handler("sftp", paramiko.SFTPServer, _SftpInterface)
                # With an event, start_server returns at once: a slow client cannot hold
                # up the accept loop.
                t.start_server(
                    event=threading.Event(), server=_SshServer(self.accounts, self.authorized_keys)
                )
            except (paramiko.SSHException, OSError, EOFError) as exc:
                log.info("sandbox sftp: session failed to start: %s", exc)
                with contextlib.suppress(OSError):
                    conn.close()
                continue
            with self._lock:
                self._transports = {x for x in self._transports if x.is_active()}
                self._transports.add(t)

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._listener = None
        with self._lock:
            transports, self._transports = self._transports, set()
        for t in transports:
            with contextlib.suppress(Exception):
                t.close()

    def __enter__(self) -> SandboxSftpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["DEFAULT_PARTNERS", "SandboxSftpServer", "generate_host_key", "load_or_create_host_key"]
