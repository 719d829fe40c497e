"""Where a partner's SFTP account is: the ``sftp://USER@HOST[:PORT][/PATH]`` setting, read
strictly, and the plain file names that may be asked for there (``adapters.sftp``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from adapters.sftp_errors import SftpConfigError, SftpError

SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}")


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


def check_name(name: str) -> str:
    """A partner file name is a plain name: no folder, no dot-file, no control character."""
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name) or ".." in name:
        raise SftpError(f"invalid remote file name {name!r}: letters, digits, '_', '-', '.' only")
    return name
