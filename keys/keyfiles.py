"""The keystore's files: created with their mode from the start, replaced atomically, and
private keys read only when no one else may read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class KeystoreError(Exception):
    """The keystore cannot do what was asked; the message names the file and the fix."""


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (never briefly world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` in one rename: a crash leaves the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    write_new(tmp, data, mode)
    os.replace(tmp, path)


def read_private(path: Path) -> bytes:
    """A private key file's bytes; refused when missing or readable by group or others."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeystoreError(f"{path} is missing (run `svcard keys init`?)") from None
    if st.st_mode & 0o077:
        raise KeystoreError(
            f"{path}: private key file is readable by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}); refusing to use it. Fix: chmod 600 {path}"
        )
    return path.read_bytes()
