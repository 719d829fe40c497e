"""The process's keystore, for the current runtime's settings (keys_dir, passphrase).

Kept for the life of the process: decrypting the private keys costs most of a second, and
the Keystore re-reads which keys are current (and which are retired) from disk on every
use, so rotations are still seen at once."""

from __future__ import annotations

from gateway import context
from keys.keystore import Keystore

_KEYSTORES: dict[tuple[str, str], Keystore] = {}


def keystore() -> Keystore:
    s = context.current().settings
    key = (str(s.keys_dir), s.key_passphrase)
    if key not in _KEYSTORES:
        _KEYSTORES[key] = Keystore(s.keys_dir, s.key_passphrase)
    return _KEYSTORES[key]
