"""Every setting of the gateway, read once from ``SVCARD_*`` variables, typed and documented.

Nothing else in the code base reads the environment. ``load()`` returns a frozen
``Settings``; a bad value raises ``SettingsError`` naming the variable, so start-up stops
with a message an operator can act on. Secrets are marked, so ``svcard config show`` and
the logs redact them.

Development defaults keep everything under ``var/`` (SQLite, keys, the spool), and the
two development secrets (the PII data key and the private-key passphrase) are generated
there on first use. In production (``SVCARD_ENV=production``) both must be given.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gateway.partners import registry

PREFIX = "SVCARD_"
OUR_ID = "SVA"


class SettingsError(ValueError):
    """A setting has a value the gateway cannot start with; the message names it."""


# ---------------------------------------------------------------- parsers


def _str(value: str) -> str:
    return value


def path_value(value: str) -> Path:
    if not value.strip():
        raise ValueError("must be a path")
    return Path(value).expanduser()


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def int_range(lo: int, hi: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not lo <= n <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return n

    return parse


def float_range(lo: float, hi: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            x = float(value)
        except ValueError:
            raise ValueError("must be a number") from None
        if not lo <= x <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return x

    return parse


def _choice(*options: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in options:
            raise ValueError("must be one of " + ", ".join(options))
        return value

    return parse


def _db_url(value: str) -> str:
    if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
        raise ValueError("must be a sqlite:// or postgresql:// URL")
    # psycopg 3 is the driver we ship; plain postgresql:// would make SQLAlchemy look for psycopg2.
    if value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value[len("postgresql://") :]
    return value


def _redis_url(value: str) -> str | None:
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must be a redis://, rediss:// or unix:// URL")
    return value


def _data_key(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise ValueError("must be base64") from None
    if len(raw) != 32:
        raise ValueError("must be 32 bytes (256 bits), base64-encoded")
    return raw


def _data_keys(value: str) -> tuple[bytes, ...]:
    return tuple(_data_key(v.strip()) for v in value.split(",") if v.strip())


def _optional_url(value: str) -> str | None:
    return value or None


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Spec:
    """One ``SVCARD_<name>`` variable: how to read it, its default, whether it is secret."""

    name: str
    parse: Callable[[str], Any]
    default: str | None
    doc: str
    secret: bool = False


SPECS: list[Spec] = [
    Spec(
        "ENV",
        _choice("development", "production"),
        "development",
        "development generates missing dev secrets under var/; production requires them",
    ),
    Spec("VAR_DIR", path_value, "var", "where development state lives (database, keys, spool, archive)"),
    Spec("DATABASE_URL", _db_url, None, "SQLAlchemy URL; default a SQLite file var/svcard.db"),
    Spec("REDIS_URL", _redis_url, "", "Redis for RQ; unset = jobs run inline, in process"),
    Spec("KEYS_DIR", path_value, None, "the keystore folder; default var/keys"),
    Spec("SPOOL_DIR", path_value, None, "downloads and archive of exchanged files; default var/spool"),
    Spec(
        "SPOOL_MIN_FREE_MB",
        int_range(0, 10_000_000),
        "1024",
        "free space the spool must have for /readyz and `svcard doctor` (a day's SWIPE file is ~200 MB)",
    ),
    Spec("DATA_KEY", _data_key, None, "PII key, base64 of 32 bytes (AES-256-GCM)", secret=True),
    Spec(
        "DATA_KEY_PREVIOUS",
        _data_keys,
        "",
        "retired PII keys still readable during a rotation, comma-separated base64",
        secret=True,
    ),
    Spec(
        "LOOKUP_KEY",
        _data_key,
        None,
        "key of the PII look-up hashes, base64 of 32 bytes (HMAC-SHA256)",
        secret=True,
    ),
    Spec(
        "ARCHIVE_KEY",
        _data_key,
        None,
        "key of the exchange archive (plain copies of every file), base64 of 32 bytes",
        secret=True,
    ),
    Spec(
        "ARCHIVE_KEY_PREVIOUS",
        _data_keys,
        "",
        "retired archive keys, still used to read older archived files",
        secret=True,
    ),
    Spec("KEY_PASSPHRASE", _str, None, "passphrase of our PKCS#8 private keys", secret=True),
    Spec(
        "CONSOLE_SECRET",
        _str,
        None,
        "key that signs the operators' console session cookies and CSRF tokens (at least 32 characters)",
        secret=True,
    ),
    Spec(
        "CONSOLE_SESSION_MINUTES",
        int_range(1, 24 * 60),
        "480",
        "a console sign-in lasts this long, then the operator signs in again",
    ),
    Spec("LOG_LEVEL", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "log level"),
    Spec(
        "LOG_FORMAT",
        _choice("auto", "json", "text"),
        "auto",
        "json: one JSON object a line; text: human lines; auto: json in production, text otherwise",
    ),
    Spec("SFTP_TIMEOUT", float_range(1, 600), "30", "SFTP connect and operation timeout, seconds"),
    Spec("SOAP_TIMEOUT", float_range(0.1, 600), "30", "SOAP connect and read timeout, seconds"),
    Spec("SOAP_CA_BUNDLE", path_value, None, "CA bundle (or pinned certificate) for partners' HTTPS"),
    Spec("RETRY_ATTEMPTS", int_range(1, 20), "5", "attempts for a retryable network failure"),
    Spec("RETRY_BASE_DELAY", float_range(0, 60), "1", "first backoff delay, seconds (doubles)"),
]
#: Variables under these prefixes belong to other packages, which read and check them
#: themselves: ``SVCARD_SANDBOX_*`` to the sandbox (``demo.sandbox_settings``), which the
#: production gateway never reads.
OWNED_ELSEWHERE = ("SANDBOX_",)


# What each kind of partner setting is: its parser and the Settings mapping that holds it.
_PARTNER_KEYS: dict[str, tuple[Callable[[str], Any], str]] = {
    "URL": (_optional_url, "partner_urls"),
    "USERNAME": (_str, "partner_usernames"),
    "PASSWORD": (_str, "partner_passwords"),
}


def partner_specs() -> list[Spec]:
    """``PARTNER_<ID>_<KEY>`` for every setting each registered partner declares."""
    out = []
    for partner in registry.partners():
        for setting in partner.settings:
            if setting.key not in _PARTNER_KEYS:
                raise SettingsError(f"partner {partner.id}: unknown kind of setting {setting.key!r}")
            parse = _PARTNER_KEYS[setting.key][0]
            out.append(
                Spec(f"PARTNER_{partner.id}_{setting.key}", parse, "", setting.doc, secret=setting.secret)
            )
    return out


def all_specs() -> list[Spec]:
    """Every setting: the gateway's own, then every registered partner's."""
    return SPECS + partner_specs()


@dataclass(frozen=True)
class Settings:
    """The effective settings. Build with ``load()``; tests pass overrides."""

    env: str
    var_dir: Path
    database_url: str = field(repr=False)  # may carry the database password
    redis_url: str | None = field(repr=False)  # may carry the Redis password
    keys_dir: Path
    spool_dir: Path
    spool_min_free_mb: int
    data_key: bytes = field(repr=False)
    data_key_previous: tuple[bytes, ...] = field(repr=False)
    lookup_key: bytes = field(repr=False)
    archive_key: bytes = field(repr=False)
    archive_key_previous: tuple[bytes, ...] = field(repr=False)
    key_passphrase: str = field(repr=False)
    console_secret: str = field(repr=False)
    console_session_minutes: int
    log_level: str
    log_format: str
    sftp_timeout: float
    soap_timeout: float
    soap_ca_bundle: Path | None
    retry_attempts: int
    retry_base_delay: float
    partner_urls: Mapping[str, str | None] = field(repr=False)  # a URL may carry a password
    partner_usernames: Mapping[str, str]
    partner_passwords: Mapping[str, str] = field(repr=False)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def log_style(self) -> str:
        """``json`` or ``text``: what ``LOG_FORMAT=auto`` means in this environment."""
        if self.log_format == "auto":
            return "json" if self.production else "text"
        return self.log_format

    def partner_url(self, partner: str) -> str:
        """The partner's endpoint, or a SettingsError naming the variable to set."""
        url = self.partner_urls.get(partner)
        if not url:
            raise SettingsError(f"{PREFIX}PARTNER_{partner}_URL is not set: cannot reach {partner}")
        return url

    def redacted(self) -> list[tuple[str, str, str]]:
        """(variable, effective value, doc) for every setting, secrets shown as ***."""
        rows = []
        for spec in all_specs():
            value = _effective_value(self, spec.name)
            shown = "***" if spec.secret and value not in ("", None, ()) else hide_url_password(_show(value))
            rows.append((PREFIX + spec.name, shown, spec.doc))
        return rows


# The password of a URL's user-info (``scheme://user:PASSWORD@host``): a production
# DATABASE_URL or REDIS_URL carries one, and `svcard config show` must not print it.
_URL_PASSWORD_RE = re.compile(r"(://[^/:@]*:)[^/]*@")


def hide_url_password(text: str) -> str:
    return _URL_PASSWORD_RE.sub(r"\1***@", text)


def _show(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def _effective_value(s: Settings, name: str) -> Any:
    if name.startswith("PARTNER_"):
        pid, _, kind = name[len("PARTNER_") :].rpartition("_")
        return getattr(s, _PARTNER_KEYS[kind][1]).get(pid)
    return getattr(s, name.lower())


def _read(env: Mapping[str, str], spec: Spec) -> Any:
    raw = env.get(PREFIX + spec.name)
    if raw is None:
        raw = spec.default
    if raw is None:
        return None
    try:
        return spec.parse(raw)
    except ValueError as exc:
        # The value itself is never echoed: it may be a secret.
        raise SettingsError(f"{PREFIX}{spec.name}: {exc}") from None


def _dev_secret(path: Path, make: Callable[[], str]) -> str:
    """Read a development secret from var/, creating it (mode 0600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make())
    return path.read_text().strip()


def _partner_values(v: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The partner mappings of Settings (partner_urls, ...), from the parsed values."""
    out: dict[str, dict[str, Any]] = {attr: {} for _, attr in _PARTNER_KEYS.values()}
    for partner in registry.partners():
        for setting in partner.settings:
            out[_PARTNER_KEYS[setting.key][1]][partner.id] = v[f"PARTNER_{partner.id}_{setting.key}"]
    return out


def with_partner_env(s: Settings, env: Mapping[str, str]) -> Settings:
    """``s`` with the ``SVCARD_PARTNER_*`` variables of ``env`` applied (the sandbox's
    exports, pointing a running gateway at it); each value parsed as at start-up."""
    changes: dict[str, dict[str, Any]] = {}
    for spec in partner_specs():
        if PREFIX + spec.name in env:
            pid, _, key = spec.name[len("PARTNER_") :].rpartition("_")
            attr = _PARTNER_KEYS[key][1]
            changes.setdefault(attr, dict(getattr(s, attr)))[pid] = _read(env, spec)
    return replace(s, **changes)


def load(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every SVCARD_* variable once. ``overrides`` replace fields (tests)."""
    env = os.environ if environ is None else environ
    specs = all_specs()
    known_names = {s.name for s in specs}
    unknown = sorted(
        k
        for k in env
        if k.startswith(PREFIX)
        and k[len(PREFIX) :] not in known_names
        and not k[len(PREFIX) :].startswith(OWNED_ELSEWHERE)
    )
    if unknown:
        raise SettingsError(f"{unknown[0]}: unknown setting (typo?); see `svcard config show`")
    v = {s.name: _read(env, s) for s in specs}
    var_dir: Path = overrides.get("var_dir") or v["VAR_DIR"]
    production = v["ENV"] == "production"

    data_key = v["DATA_KEY"]
    lookup_key = v["LOOKUP_KEY"]
    archive_key = v["ARCHIVE_KEY"]
    passphrase = v["KEY_PASSPHRASE"]
    console_secret = v["CONSOLE_SECRET"]
    if production:
        for name, value in (
            ("DATA_KEY", data_key),
            ("LOOKUP_KEY", lookup_key),
            ("ARCHIVE_KEY", archive_key),
            ("KEY_PASSPHRASE", passphrase),
            ("CONSOLE_SECRET", console_secret),
            ("DATABASE_URL", v["DATABASE_URL"]),
        ):
            if value is None and name.lower() not in overrides:
                raise SettingsError(f"{PREFIX}{name}: required when {PREFIX}ENV=production")
    else:
        secrets_dir = var_dir / "secrets"
        if data_key is None and "data_key" not in overrides:
            data_key = _data_key(
                _dev_secret(
                    secrets_dir / "data.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
                )
            )
        if lookup_key is None and "lookup_key" not in overrides:
            lookup_key = _data_key(
                _dev_secret(
                    secrets_dir / "lookup.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
                )
            )
        if archive_key is None and "archive_key" not in overrides:
            archive_key = _data_key(
                _dev_secret(
                    secrets_dir / "archive.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
                )
            )
        if passphrase is None and "key_passphrase" not in overrides:
            passphrase = _dev_secret(secrets_dir / "key-passphrase", lambda: secrets.token_urlsafe(32))
        if console_secret is None and "console_secret" not in overrides:
            console_secret = _dev_secret(secrets_dir / "console.key", lambda: secrets.token_urlsafe(32))
        # Previous data keys kept by `svcard keys rotate-data-key --new-dev-key`.
        previous_file = secrets_dir / "data.key.previous"
        if not v["DATA_KEY_PREVIOUS"] and "data_key_previous" not in overrides and previous_file.exists():
            v["DATA_KEY_PREVIOUS"] = _data_keys(",".join(previous_file.read_text().split()))
    if passphrase is not None and len(passphrase) < 12:
        raise SettingsError(f"{PREFIX}KEY_PASSPHRASE: must be at least 12 characters")
    if console_secret is not None and len(console_secret) < 32:
        raise SettingsError(f"{PREFIX}CONSOLE_SECRET: must be at least 32 characters")

    values: dict[str, Any] = dict(
        env=v["ENV"],
        var_dir=var_dir,
        database_url=v["DATABASE_URL"] or f"sqlite:///{(var_dir / 'svcard.db').resolve()}",
        redis_url=v["REDIS_URL"],
        keys_dir=v["KEYS_DIR"] or var_dir / "keys",
        spool_dir=v["SPOOL_DIR"] or var_dir / "spool",
        data_key=data_key,
        data_key_previous=v["DATA_KEY_PREVIOUS"],
        lookup_key=lookup_key,
        archive_key=archive_key,
        archive_key_previous=v["ARCHIVE_KEY_PREVIOUS"],
        key_passphrase=passphrase,
        console_secret=console_secret,
        console_session_minutes=v["CONSOLE_SESSION_MINUTES"],
        log_level=v["LOG_LEVEL"],
        log_format=v["LOG_FORMAT"],
        sftp_timeout=v["SFTP_TIMEOUT"],
        soap_timeout=v["SOAP_TIMEOUT"],
        soap_ca_bundle=v["SOAP_CA_BUNDLE"],
        retry_attempts=v["RETRY_ATTEMPTS"],
        retry_base_delay=v["RETRY_BASE_DELAY"],
        spool_min_free_mb=v["SPOOL_MIN_FREE_MB"],
        **_partner_values(v),
    )
    if production and values["soap_ca_bundle"] is None:
        for pid in registry.ids("soap"):
            if (values["partner_urls"].get(pid) or "").startswith("https://"):
                # partners/README.md: the server certificate is checked against a configured
                # CA bundle or pinned certificate, not whatever the host happens to trust.
                raise SettingsError(
                    f"{PREFIX}SOAP_CA_BUNDLE: required in production for {PREFIX}PARTNER_{pid}_URL (https)"
                )
    known = {f.name for f in fields(Settings)}
    for key in overrides:
        if key not in known:
            raise SettingsError(f"unknown settings override {key!r}")
    values.update(overrides)
    return Settings(**values)
