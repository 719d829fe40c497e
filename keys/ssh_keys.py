"""SSH keys in the keystore: our client key and the SFTP partners' pinned host keys
(``known_hosts`` files). The one module of ``keys`` that imports paramiko, so that sealing
and opening files (every CLI start, every job) do not pay for it: the keystore imports
this module only where SSH keys are used.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import paramiko

from keys.keyfiles import KeystoreError, write_atomic


def fingerprint(pkey: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:...`` form of a public key."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(pkey.asbytes()).digest()).decode().rstrip("=")


def load_client_key(path: Path, passphrase: str) -> paramiko.PKey:
    """Our SSH client key (OpenSSH format, encrypted under ``passphrase``); the caller has
    checked the file's mode (``keyfiles.read_private``)."""
    try:
        return paramiko.PKey.from_path(path, password=passphrase.encode())  # type: ignore[arg-type]
    except (paramiko.SSHException, ValueError):
        raise KeystoreError(f"{path}: cannot decrypt (wrong SVCARD_KEY_PASSPHRASE?)") from None


def public_key_file(path: Path) -> tuple[str, str]:
    """(key type, fingerprint) of an OpenSSH ``.pub`` file."""
    kind, b64 = path.read_text().split()[:2]
    return kind, fingerprint(paramiko.PKey.from_type_string(kind, base64.b64decode(b64)))


def checked_lines(known_hosts_text: str) -> list[str]:
    """The host key lines of ``known_hosts_text``, each checked first: one bad line refuses
    the whole file, naming the line."""
    entries = []
    for n, line in enumerate(known_hosts_text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(s, n)
        except (paramiko.SSHException, paramiko.hostkeys.InvalidHostKey, ValueError, TypeError) as exc:
            raise KeystoreError(f"known_hosts line {n}: not a host key line ({exc})") from None
        if entry is None or entry.key is None:
            raise KeystoreError(f"known_hosts line {n}: not a host key line (unsupported key type or marker)")
        entries.append(entry.to_line().strip())
    if not entries:
        raise KeystoreError("no host key in the file")
    return entries


def add_lines(path: Path, lines: list[str]) -> int:
    """Add to the ``known_hosts`` file ``path`` the lines it lacks; how many were new."""
    current = path.read_text().splitlines() if path.exists() else []
    new = [e for e in dict.fromkeys(lines) if e not in current]
    if new:
        write_atomic(path, ("\n".join(current + new) + "\n").encode(), 0o644)
    return len(new)


def host_keys(path: Path) -> paramiko.HostKeys:
    """The ``known_hosts`` file ``path`` as paramiko reads it (empty when there is none)."""
    return paramiko.HostKeys(str(path)) if path.exists() else paramiko.HostKeys()


def entries(path: Path) -> Iterator[paramiko.hostkeys.HostKeyEntry]:
    """Every usable entry of the ``known_hosts`` file ``path``, in file order."""
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            entry = paramiko.hostkeys.HostKeyEntry.from_line(line, n)
            if entry is not None and entry.key is not None:
                yield entry


def keys_for(path: Path, host: str | None, port: int) -> list[paramiko.PKey]:
    """Every key of ``path`` for ``host`` (and ``[host]:port``), or all without ``host``."""
    if not path.exists():
        return []
    names = None if host is None else {host, f"[{host}]:{port}"}
    return [
        entry.key
        for entry in entries(path)
        if names is None or any(_matches(pattern, n) for pattern in entry.hostnames for n in names)
    ]


def _matches(pattern: str, host: str) -> bool:
    if pattern.startswith("|1|"):  # hashed known_hosts entry
        return paramiko.HostKeys.hash_host(host, pattern) == pattern
    return pattern == host
