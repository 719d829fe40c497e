"""The write-once archive of exchanged files.

Two copies per file: ``raw/`` holds the exact bytes that crossed (the .p7m), ``plain/``
the plain file encrypted under our archive key (keys.archive). Paths are content
addressed (``<partner>/<yyyy-mm>/<sha256>-<name>``): a file is written once, with
O_EXCL, then made read-only; writing the same content again is a no-op, and different
content can never overwrite an archived file.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from gateway.settings import Settings
from keys.archive import decrypt_stream, encrypt_stream


class ArchiveConflict(Exception):
    """An archive path already holds other bytes: the archive is never overwritten."""


@dataclass(frozen=True)
class Archived:
    path: str  # relative to the spool dir
    sha256: str
    size: int


def _root(settings: Settings) -> Path:
    return settings.spool_dir / "archive"


def _rel(kind: str, partner: str, day: date, sha256: str, name: str) -> str:
    safe = "".join(c for c in name if c.isalnum() or c in "._-")
    return f"{kind}/{partner}/{day:%Y-%m}/{sha256[:16]}-{safe}"


def _write_once(target: Path, src: BinaryIO) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # unique per call: two threads of one process may archive the same file at once
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}-{os.urandom(4).hex()}")
    with open(tmp, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o400)
    try:
        # link() fails if the target exists: the archive is write-once even across processes.
        os.link(tmp, target)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def store_raw(settings: Settings, partner: str, day: date, name: str, src_path: Path) -> Archived:
    """Archive the exact bytes that crossed (already on disk, e.g. in the spool)."""
    digest, size = sha256_file(src_path)
    rel = _rel("raw", partner, day, digest, name)
    target = _root(settings) / rel
    if target.exists():
        if sha256_file(target)[0] != digest:
            raise ArchiveConflict(f"{rel}: archive holds other bytes")
    else:
        with open(src_path, "rb") as src:
            _write_once(target, src)
    return Archived(rel, digest, size)


class _HashingReader:
    """Reads through to ``src`` while hashing what passes."""

    def __init__(self, src: BinaryIO) -> None:
        self.src, self.hash = src, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.src.read(n)
        self.hash.update(data)
        return data


def store_plain(settings: Settings, partner: str, day: date, name: str, src: BinaryIO | bytes) -> Archived:
    """Archive the plain file, encrypted under the current archive key. The path is known
    only once the plain bytes are hashed, so it is written aside and then linked."""
    reader = _HashingReader(io.BytesIO(src) if isinstance(src, bytes | bytearray) else src)
    incoming = _root(settings) / "plain" / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    tmp = incoming / f"{os.getpid()}-{os.urandom(4).hex()}"
    with open(tmp, "wb") as out:
        size = encrypt_stream(settings.archive_key, reader, out)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o400)
    digest = reader.hash.hexdigest()
    rel = _rel("plain", partner, day, digest, name)
    target = _root(settings) / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(tmp, target)
    except FileExistsError:
        pass  # the same plain content was archived before (content addressed): keep the first
    finally:
        os.unlink(tmp)
    return Archived(rel, digest, size)


def read_plain(settings: Settings, rel: str, dst: BinaryIO) -> int:
    """Decrypt an archived plain file into ``dst`` (operators, audits, replays)."""
    keys = [settings.archive_key, *settings.archive_key_previous]
    with open(_root(settings) / rel, "rb") as src:
        return decrypt_stream(keys, src, dst)


def raw_path(settings: Settings, rel: str) -> Path:
    return _root(settings) / rel


def sha256_file(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size
