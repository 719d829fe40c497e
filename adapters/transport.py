"""The file-transport port: what the exchange engine needs of any file partner's channel.

SFTP (``adapters.sftp.SftpTransport``) is the one implementation today; another transport
(a partner's HTTPS drop box, say) implements the same four operations and is registered in
``gateway.services.transports`` under its kind, with no change to the engine."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, Self


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: datetime  # UTC


@dataclass(frozen=True)
class Downloaded:
    path: Path
    sha256: str  # lower-case hex
    size: int


class FileTransport(Protocol):
    """A partner's two folders: ``inbox/`` (files to the partner), ``outbox/`` (from it).

    Used as a context manager (the connection lives for the ``with`` block). Errors are
    ``adapters.sftp_errors.SftpError`` subclasses with a stable ``code``; a refused host key
    or login is never retried."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def upload(self, source: bytes | str | os.PathLike[str], name: str) -> int:
        """Place ``source`` as ``inbox/<name>`` whole (never a partial file under that
        name); the size the partner's side holds."""

    def list_outbox(self) -> list[RemoteFile]:
        """The complete files in ``outbox/`` (partial uploads are not listed)."""

    def download(self, name: str, spool_dir: str | os.PathLike[str], fsync: bool = True) -> Downloaded:
        """Copy ``outbox/<name>`` into ``spool_dir``, with its SHA-256."""

    def delete(self, name: str) -> None:
        """Remove ``outbox/<name>`` once it is safely stored."""
