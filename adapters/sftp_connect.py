"""Opening a partner's SFTP connection (``adapters.sftp``): the algorithms we offer, flow
control, the pinned host key check, key authentication, and the request sizes the server
allows. Private to ``adapters.sftp``; no paramiko exception is handled here beyond what
authentication needs, the transport's retry loop maps the rest.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paramiko

from adapters import sftp_pipe
from adapters.sftp_errors import AuthError, HostKeyError, SftpConfigError, SftpError
from adapters.sftp_url import SftpUrl
from adapters.sftp_wire import BulkIO

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

#: Logs a message on the alert logger and returns the error to raise (the transport's).
Alert = Callable[[type[SftpError], str], SftpError]


class Retry(Exception):
    """A failure worth another attempt."""


@dataclass(frozen=True)
class Connection:
    transport: paramiko.Transport
    sftp: paramiko.SFTPClient
    bulk: BulkIO
    negotiated: dict[str, str]  # cipher and MAC, for the bench


def pinned_keys(
    url: SftpUrl, host_keys: Sequence[paramiko.PKey] | paramiko.HostKeys, label: str
) -> list[paramiko.PKey]:
    """The pinned keys for ``url``'s host: a ``HostKeys`` is looked up as ``HOST`` and
    ``[HOST]:PORT``; a list is taken as it is."""
    if isinstance(host_keys, paramiko.HostKeys):
        found: list[paramiko.PKey] = []
        for n in (url.host, f"[{url.host}]:{url.port}"):
            entry = host_keys.lookup(n)
            if entry:
                found.extend(entry.values())
        return found
    keys = list(host_keys)
    for k in keys:
        if not isinstance(k, paramiko.PKey):
            raise SftpConfigError(f"pinned host keys for {label} must be paramiko keys")
    return keys


def connect(
    u: SftpUrl, client_key: paramiko.PKey, pinned: list[paramiko.PKey], timeout: float, alert: Alert
) -> Connection:
    """An authenticated SFTP session to ``u``, or an error: :class:`Retry` for a network
    failure, ``HostKeyError``/``AuthError`` (through ``alert``) for a refusal."""
    try:
        sock = socket.create_connection((u.host, u.port), timeout=timeout)
    except OSError as exc:
        raise Retry(f"cannot connect to {u.host}:{u.port}: {exc.strerror or exc}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = paramiko.Transport(sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET_SIZE)
    try:
        t.banner_timeout = t.handshake_timeout = t.auth_timeout = timeout
        opts = t.get_security_options()
        opts.ciphers = tuple(c for c in CIPHERS if c in t._preferred_ciphers)
        opts.digests = tuple(m for m in MACS if m in t._preferred_macs)
        # Ask only for the pinned key types, so the server shows the key we can check.
        opts.key_types = tuple(k for k in _host_key_types(pinned) if k in t._preferred_keys) or opts.key_types
        t.start_client(timeout=timeout)
        _check_host_key(u, pinned, t.get_remote_server_key(), alert)
        try:
            t.auth_publickey(u.user, client_key)
        except paramiko.AuthenticationException:
            raise alert(
                AuthError, f"SFTP server {u.host}:{u.port} refused our client key for user {u.user!r}"
            ) from None
        if not t.is_authenticated():
            raise alert(AuthError, f"SFTP server {u.host}:{u.port} did not authenticate user {u.user!r}")
        sftp = paramiko.SFTPClient.from_transport(t, window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET_SIZE)
        if sftp is None:
            raise Retry("SFTP subsystem could not be opened")
        chan = sftp.get_channel()
        chan.settimeout(timeout)
        read_size, write_size = _request_sizes(sftp, chan)
        # Nothing is in flight now: swap in the no-copy receive buffer (speed only).
        sftp_pipe.install(chan)
        bulk = BulkIO(
            chan,
            read_size=read_size,
            write_size=write_size,
            depth=PIPELINE_DEPTH,
            # paramiko puts at most out_max_packet_size - 64 bytes in one packet
            max_message=chan.out_max_packet_size - 64,
        )
        gcm = "gcm" in t.remote_cipher
        negotiated = {"cipher": t.remote_cipher, "mac": "implicit (AEAD)" if gcm else t.remote_mac}
    except BaseException:
        t.close()
        raise
    return Connection(t, sftp, bulk, negotiated)


def _host_key_types(pinned: list[paramiko.PKey]) -> tuple[str, ...]:
    types: list[str] = []
    for key in pinned:
        for alg in _HOSTKEY_ALGS.get(key.get_name(), (key.get_name(),)):
            if alg not in types:
                types.append(alg)
    return tuple(types)


def _request_sizes(sftp: paramiko.SFTPClient, chan: paramiko.Channel) -> tuple[int, int]:
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


def _check_host_key(u: SftpUrl, pinned: list[paramiko.PKey], key: paramiko.PKey, alert: Alert) -> None:
    blob = key.asbytes()
    if any(p.asbytes() == blob for p in pinned):
        return
    # key.fingerprint: "SHA256:..." of the public key; never key material
    raise alert(
        HostKeyError,
        f"SFTP host key of {u.host}:{u.port} is not pinned (unknown or changed): "
        f"server offered {key.get_name()} {key.fingerprint}; connection refused",
    )
