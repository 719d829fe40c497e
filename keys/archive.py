"""Streaming encryption of archived files under our own archive key (AES-256-GCM).

Every file that crosses to a partner is kept twice: the exact bytes that crossed (sealed
for the partner, or by the partner for us), and the plain file encrypted here, so that an
operator or an auditor can read what was sent — an outbound file is sealed to the
partner's certificate and nobody at SVA could open it otherwise.

Format: ``b"SVAR1" + key_id(4) + nonce_prefix(7)``, then chunks of at most 1 MiB of plain
text, each ``AESGCM.encrypt(nonce_prefix + counter(4) + last(1), chunk)`` where ``last`` is 1
on the final chunk (always present, possibly empty), so truncation and reordering are
detected. Memory stays at one chunk whatever the file size.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.pii import key_id

MAGIC = b"SVAR1"
CHUNK = 1 << 20
TAG = 16


class ArchiveError(Exception):
    """An archived file is damaged, truncated, or sealed under an unknown key."""


def _read_full(src: BinaryIO, n: int) -> bytes:
    """``n`` bytes, or fewer only at the end of ``src``: a pipe or raw stream may return
    less than asked, and a short chunk would be taken for the last one (the rest lost)."""
    data = src.read(n)
    if len(data) in (0, n):
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = src.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def encrypt_stream(key: bytes, src: BinaryIO, dst: BinaryIO) -> int:
    """Encrypt ``src`` into ``dst``; returns the number of plain bytes."""
    aead = AESGCM(key)
    prefix = os.urandom(7)
    dst.write(MAGIC + key_id(key) + prefix)
    total, counter = 0, 0
    chunk = _read_full(src, CHUNK)
    while True:
        nxt = _read_full(src, CHUNK) if len(chunk) == CHUNK else b""
        last = not nxt
        nonce = prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")
        dst.write(aead.encrypt(nonce, chunk, None))
        total += len(chunk)
        counter += 1
        if last:
            return total
        chunk = nxt


def decrypt_stream(keys: Iterable[bytes], src: BinaryIO, dst: BinaryIO) -> int:
    """Decrypt an archive written by ``encrypt_stream`` with whichever key sealed it."""
    head = _read_full(src, len(MAGIC) + 4 + 7)
    if len(head) != len(MAGIC) + 11 or not head.startswith(MAGIC):
        raise ArchiveError("not an archive file")
    by_id = {key_id(k): k for k in keys}
    key = by_id.get(head[len(MAGIC) : len(MAGIC) + 4])
    if key is None:
        raise ArchiveError("sealed under an unknown archive key")
    aead, prefix = AESGCM(key), head[len(MAGIC) + 4 :]
    total, counter = 0, 0
    block = _read_full(src, CHUNK + TAG)
    while True:
        nxt = _read_full(src, CHUNK + TAG) if len(block) == CHUNK + TAG else b""
        last = not nxt
        nonce = prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")
        try:
            plain = aead.decrypt(nonce, block, None)
        except InvalidTag:
            raise ArchiveError("archive damaged or truncated") from None
        dst.write(plain)
        total += len(plain)
        counter += 1
        if last:
            return total
        block = nxt
