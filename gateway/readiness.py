"""Is this process ready to work? The checks of ``/readyz`` and ``svcard doctor``.

Each check answers with its name, whether it passed, and a line an operator can act on
(what failed, and the command or setting that fixes it). A check never raises: a failing
dependency is a failed check, and the others still run, so one answer names everything
that is wrong at once.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from gateway import migrate
from gateway.context import Runtime
from gateway.keystore import keystore_for
from gateway.settings import hide_url_password
from keys.keystore import KeystoreError


class CheckFailed(Exception):  # noqa: N818 - a check's verdict, shown as it is
    """A check that ran and found something wrong (its message is the operator's line)."""


@dataclass(frozen=True)
class Check:
    name: str  # database | migrations | redis | keystore | spool
    ok: bool
    detail: str


def _database(rt: Runtime) -> str:
    with rt.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return f"{rt.engine.dialect.name} answers"


def _migrations(rt: Runtime) -> str:
    missing = migrate.pending_heads(rt.engine)
    if missing:
        raise CheckFailed(f"not at head: {', '.join(missing)} not applied (run `svcard db upgrade`)")
    return "at head"


def _redis(rt: Runtime) -> str:
    if not rt.settings.redis_url:
        return "not configured: jobs run inline"
    from redis import Redis  # redis loads only when it is configured

    Redis.from_url(rt.settings.redis_url, socket_timeout=2, socket_connect_timeout=2).ping()
    return "answers PING"


def _keystore(rt: Runtime) -> str:
    ks = keystore_for(rt.settings)
    ks.signer()
    n = len(ks.decryption_keys())
    return f"opens ({ks.path}): signing key and {n} decryption key(s) decrypt"


def _spool(rt: Runtime) -> str:
    spool = rt.settings.spool_dir
    spool.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=spool, prefix=".readyz-"):
        pass  # created and removed: the spool is writable
    free_mb = shutil.disk_usage(spool).free // (1024 * 1024)
    need = rt.settings.spool_min_free_mb
    if free_mb < need:
        raise CheckFailed(f"{spool}: {free_mb} MB free, below SVCARD_SPOOL_MIN_FREE_MB={need}")
    return f"{spool} writable, {free_mb} MB free"


CHECKS: tuple[tuple[str, Callable[[Runtime], str]], ...] = (
    ("database", _database),
    ("migrations", _migrations),
    ("redis", _redis),
    ("keystore", _keystore),
    ("spool", _spool),
)


def run_checks(rt: Runtime) -> list[Check]:
    out = []
    for name, check in CHECKS:
        if name == "migrations" and out and not out[0].ok:
            out.append(Check(name, False, "not checked: the database does not answer"))
            continue
        try:
            out.append(Check(name, True, check(rt)))
        except (CheckFailed, KeystoreError) as exc:
            out.append(Check(name, False, str(exc)))
        except Exception as exc:  # noqa: BLE001 - any failure is a failed check, named
            out.append(Check(name, False, _reason(exc)))
    return out


def _reason(exc: Exception) -> str:
    """One line, no secret: a driver's message may carry the URL, so only its first line
    and its type are shown, with any password of a URL in it hidden."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {hide_url_password(first)[:300]}"
