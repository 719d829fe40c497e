"""PII field encryption (AES-256-GCM) and keyed look-up hashes.

A ciphertext is ``b"P1" + key_id(4) + nonce(12) + ciphertext+tag``, so a row says which
data key sealed it: during a data-key rotation rows under the previous key still open,
and the rotation can tell which rows are done (it is resumable by construction).
The column name is bound as associated data, so a value copied into another column
does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"P1"


class PiiDecryptError(Exception):
    """A PII value could not be opened with any known data key."""


def key_id(key: bytes) -> bytes:
    """4-byte identifier of a data key (not secret: a truncated hash of a derived value)."""
    return hashlib.sha256(b"svcard-data-key-id\x00" + key).digest()[:4]


class FieldCipher:
    """Encrypts with the current data key; decrypts with the current or a previous one."""

    def __init__(self, current: bytes, previous: Iterable[bytes] = ()) -> None:
        if len(current) != 32:
            raise ValueError("data key must be 32 bytes")
        self.current_id = key_id(current)
        self._aead = {self.current_id: AESGCM(current)}
        for k in previous:
            self._aead.setdefault(key_id(k), AESGCM(k))

    def encrypt(self, plain: bytes, context: str) -> bytes:
        nonce = os.urandom(12)
        return (
            MAGIC
            + self.current_id
            + nonce
            + self._aead[self.current_id].encrypt(nonce, plain, context.encode())
        )

    def decrypt(self, token: bytes, context: str) -> bytes:
        if len(token) < 2 + 4 + 12 + 16 or token[:2] != MAGIC:
            raise PiiDecryptError(f"{context}: not a sealed PII value")
        aead = self._aead.get(token[2:6])
        if aead is None:
            raise PiiDecryptError(f"{context}: sealed under an unknown data key")
        try:
            return aead.decrypt(token[6:18], token[18:], context.encode())
        except Exception:  # noqa: BLE001 - InvalidTag and malformed input alike
            raise PiiDecryptError(f"{context}: authentication failed") from None

    def is_current(self, token: bytes) -> bool:
        return token[2:6] == self.current_id


def lookup_hash(hash_key: bytes, *parts: str) -> str:
    """Keyed hash (HMAC-SHA256, hex) of ``parts``, for look-ups and duplicate detection,
    e.g. ``lookup_hash(k, "RIC", "440303198506120872")``. The hash key is its own setting
    (SVCARD_LOOKUP_KEY), not the data key, so look-ups survive a data-key rotation."""
    msg = "\x1f".join(p.strip().upper() for p in parts).encode()
    return hmac.new(hash_key, msg, hashlib.sha256).hexdigest()
