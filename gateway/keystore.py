"""The process's keystore, for the current runtime's settings (keys_dir, passphrase).

Kept for the life of the process: decrypting the private keys costs most of a second, and
the Keystore re-reads which keys are current (and which are retired) from disk on every
use, so rotations are still seen at once."""

from __future__ import annotations

from pathlib import Path

from gateway import context
from gateway.partners import registry
from gateway.settings import Settings
from keys.keystore import Keystore

_KEYSTORES: dict[tuple[str, str, tuple[str, ...]], Keystore] = {}


def registered_partners() -> dict[str, bool]:
    """Every registered partner id, with whether it exchanges files (pins host keys)."""
    return {p.id: p.file_partner for p in registry.partners()}


def open_keystore(path: Path, passphrase: str) -> Keystore:
    """A keystore that holds exactly the registered partners."""
    return Keystore(path, passphrase, partners=registered_partners())


def keystore_for(settings: Settings) -> Keystore:
    """The keystore of these settings, opened once per process."""
    partners = registered_partners()
    key = (str(settings.keys_dir), settings.key_passphrase, tuple(partners))
    if key not in _KEYSTORES:
        _KEYSTORES[key] = Keystore(settings.keys_dir, settings.key_passphrase, partners=partners)
    return _KEYSTORES[key]


def keystore() -> Keystore:
    """The keystore of the process's runtime (for the CLI; services get it from their ports)."""
    return keystore_for(context.current().settings)
