"""Shared identities, imported by tests/keys/conftest.py and the openssl integration test.

RSA-3072 generation is slow, so every key pair is made once per session and keystores
are copied from one initialised template."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.keystore import open_keystore
from keys.envelope import seal
from keys.identity import Identity, cert_pem, make_identity
from keys.keystore import Keystore

PASSPHRASE = "test-passphrase-0123"


@dataclass(frozen=True)
class Identities:
    bank: Identity  # BOCSZ, pinned in the template keystore
    stranger: Identity  # nobody pinned it; also "someone else" to seal to
    expired_bank: Identity  # BOCSZ too, pinned while valid, now expired


@pytest.fixture(scope="session")
def identities() -> Identities:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    return Identities(
        bank=make_identity("BOCSZ sandbox"),
        stranger=make_identity("Stranger"),
        expired_bank=make_identity("BOCSZ old", not_before=past, days=30),
    )


@pytest.fixture(scope="session")
def keystore_template(tmp_path_factory: pytest.TempPathFactory, identities: Identities) -> Path:
    path = tmp_path_factory.mktemp("keystore") / "keys"
    ks = open_keystore(path, PASSPHRASE)
    ks.init()
    ks.trust("BOCSZ", cert_pem(identities.bank[0]))
    # Pinned back when it was valid.
    ks.trust(
        "BOCSZ", cert_pem(identities.expired_bank[0]), now=identities.expired_bank[0].not_valid_before_utc
    )
    return path


@pytest.fixture
def cli_runtime(ks: Keystore, tmp_path: Path):
    """The process runtime with settings pointing at ``ks`` (for the CLI commands)."""
    from gateway import context
    from gateway import settings as settings_mod

    s = settings_mod.load(environ={}, var_dir=tmp_path / "var", keys_dir=ks.path, key_passphrase=PASSPHRASE)
    rt = context.build(s)
    context.install(rt)
    yield rt
    context.install(None)
    rt.engine.dispose()


def inbound(ks: Keystore, data: bytes, signer: Identity, **kw) -> bytes:
    """What a partner sends us: ``data`` signed by ``signer``, sealed to our decryption cert."""
    return seal(data, signer[0], signer[1], [ks.certificate("decrypt")], **kw)


@pytest.fixture
def ks(keystore_template: Path, tmp_path: Path) -> Keystore:
    """A fresh copy of the template keystore (our keys + BOCSZ pinned)."""
    path = tmp_path / "keys"
    shutil.copytree(keystore_template, path)  # copy2 keeps the 0600 modes
    return open_keystore(path, PASSPHRASE)
