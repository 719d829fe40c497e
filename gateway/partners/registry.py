"""The partner registry: every partner of the gateway, declared once as a ``Partner``.

A partner is one package under ``gateway/partners/<name>/`` whose ``__init__`` exposes
``PARTNER``. The declaration is data (ids, settings, dotted paths, schedule entries), so
reading it costs nothing: settings, the keystore, the schedule, the missing-file checks,
the API and the CLI read it at start-up without importing a service. The code that runs a
partner (its channel's builders and handlers) is named by a dotted path and imported only
when an exchange needs it.

A package that does not load, or declares itself badly, stops start-up with a
``RegistryError`` naming it: a misspelled partner must never be skipped without a word.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Transport = Literal["sftp", "soap"]

#: The partners the gateway ships with, in the order operators read them.
BUILTIN = (
    "gateway.partners.bank",
    "gateway.partners.transit",
    "gateway.partners.health",
    "gateway.partners.insurer",
    "gateway.partners.fund",
)

# partners/README.md: party ids are upper-case letters and digits (BOCSZ, SZT, ...).
_ID_RE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")


class RegistryError(RuntimeError):
    """A partner package that does not load or declares itself wrongly."""

    code = "partner_registry"


@dataclass(frozen=True)
class Setting:
    """One ``SVCARD_PARTNER_<ID>_<KEY>`` setting of a partner."""

    key: str  # URL, USERNAME, PASSWORD, ...
    doc: str
    secret: bool = False


@dataclass(frozen=True)
class Scheduled:
    """One entry of the schedule: a job at a cron time (Beijing time)."""

    name: str
    cron: str  # minute hour day month weekday, Beijing time
    func: str  # dotted path of a module-level function in jobs/
    kwargs: dict[str, Any] = field(default_factory=dict)
    why: str = ""  # the spec line it implements


@dataclass(frozen=True)
class Expected:
    """An inbound file the partner owes us: for the business date ``offset_days`` from the
    checking day, checked by the partner's ``check_expected`` schedule entry."""

    file_type: str
    offset_days: int
    working_days_only: bool = False


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    transport: Transport
    #: the partner's settings; by default those of its transport (``sftp_settings``,
    #: ``soap_settings``)
    settings: tuple[Setting, ...] = ()
    #: dotted path of the module whose ``CHANNEL`` holds the file channel's builders and
    #: handlers (file partners only)
    channel: str | None = None
    #: the record types of this partner's files (in ``schemas.recordtypes``)
    record_types: tuple[str, ...] = ()
    schedule: tuple[Scheduled, ...] = ()
    expected: tuple[Expected, ...] = ()
    #: the command that lifts a security stop on calls to this partner (SOAP partners)
    resume_command: str | None = None
    #: ``module:Class`` of the partner's SOAP client (its port, built on an endpoint from
    #: settings by ``gateway.wiring``); SOAP partners only
    client: str | None = None

    def __post_init__(self) -> None:
        if not self.settings:
            by_transport = {"sftp": sftp_settings, "soap": soap_settings}.get(self.transport)
            if by_transport is not None:
                object.__setattr__(self, "settings", by_transport(self.id))

    @property
    def file_partner(self) -> bool:
        """Exchanges files with us on a file transport (SFTP today)."""
        return self.channel is not None

    def setting_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.settings)


EXPECTED_WHY = "README.md: an expected file two hours past its deadline raises an alert"


def _exchange_entry(partner_id: str, job: str, cron: str, why: str, name: str) -> Scheduled:
    return Scheduled(name, cron, f"jobs.exchange.{job}", {"partner": partner_id}, why)


def send_entry(partner_id: str, cron: str, why: str, name: str | None = None) -> Scheduled:
    """The partner's scheduled send of every outbound file due (``jobs.exchange``)."""
    return _exchange_entry(partner_id, "send_scheduled", cron, why, name or f"{partner_id.lower()}-send")


def fetch_entry(partner_id: str, cron: str, why: str, name: str | None = None) -> Scheduled:
    """The partner's scheduled fetch, apply and acknowledge (``jobs.exchange``)."""
    return _exchange_entry(partner_id, "fetch_and_process", cron, why, name or f"{partner_id.lower()}-fetch")


def expected_entry(partner_id: str, cron: str, why: str = EXPECTED_WHY) -> Scheduled:
    """The check of the partner's ``expected`` files, two hours after their deadline."""
    return _exchange_entry(partner_id, "check_expected", cron, why, f"{partner_id.lower()}-expected")


def sftp_settings(partner_id: str) -> tuple[Setting, ...]:
    return (Setting("URL", f"{partner_id} endpoint (sftp://USER@HOST:PORT/PATH)"),)


def soap_settings(partner_id: str) -> tuple[Setting, ...]:
    return (
        Setting("URL", f"{partner_id} endpoint (http(s):// of its SOAP service)"),
        Setting("USERNAME", f"{partner_id} WS-Security user name"),
        Setting("PASSWORD", f"{partner_id} WS-Security password", secret=True),
    )


_PARTNERS: dict[str, Partner] = {}
_LOADED = False


def _check(partner: Any, where: str) -> Partner:
    if not isinstance(partner, Partner):
        raise RegistryError(
            f"{where}: PARTNER must be a gateway.partners.registry.Partner, not {type(partner)!r}"
        )
    if not _ID_RE.match(partner.id):
        raise RegistryError(f"{where}: partner id {partner.id!r} is not 2-8 upper-case letters and digits")
    if "URL" not in partner.setting_keys():
        raise RegistryError(f"{where}: partner {partner.id} declares no URL setting")
    if partner.transport == "sftp" and partner.channel is None:
        raise RegistryError(f"{where}: file partner {partner.id} declares no channel")
    return partner


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    found: dict[str, Partner] = {}
    for name in BUILTIN:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise RegistryError(f"partner package {name} does not load: {exc}") from exc
        partner = _check(getattr(module, "PARTNER", None), name)
        if partner.id in found:
            raise RegistryError(f"{name}: partner id {partner.id} declared twice")
        found[partner.id] = partner
    _PARTNERS.update(found)
    _LOADED = True


def register(partner: Partner) -> Partner:
    """Add a partner that is not built in (a deployment's own, or a test's)."""
    _load()
    _check(partner, f"partner {getattr(partner, 'id', partner)!r}")
    if partner.id in _PARTNERS and _PARTNERS[partner.id] is not partner:
        raise RegistryError(f"partner id {partner.id} is already registered")
    _PARTNERS[partner.id] = partner
    return partner


def unregister(partner_id: str) -> None:
    """Remove a partner added by ``register`` (tests clean up with it)."""
    if any(importlib.import_module(n).PARTNER.id == partner_id for n in BUILTIN):
        raise RegistryError(f"{partner_id} is built in")
    _PARTNERS.pop(partner_id, None)


def partners(transport: Transport | None = None) -> tuple[Partner, ...]:
    """Every registered partner (optionally only those on one transport), in order."""
    _load()
    return tuple(p for p in _PARTNERS.values() if transport is None or p.transport == transport)


def ids(transport: Transport | None = None) -> tuple[str, ...]:
    return tuple(p.id for p in partners(transport))


def file_partner_ids() -> tuple[str, ...]:
    return tuple(p.id for p in partners() if p.file_partner)


def get(partner_id: str) -> Partner:
    _load()
    try:
        return _PARTNERS[partner_id]
    except KeyError:
        raise RegistryError(f"unknown partner {partner_id!r}; one of {', '.join(_PARTNERS)}") from None


def by_record_type(file_type: str) -> Iterable[Partner]:
    return (p for p in partners() if file_type in p.record_types)


def load_channel(partner: Partner) -> Any:
    """The partner's file channel (``CHANNEL`` of its channel module), imported on first use."""
    if partner.channel is None:
        raise RegistryError(f"{partner.id} exchanges no files")
    try:
        module = importlib.import_module(partner.channel)
    except ImportError as exc:
        raise RegistryError(f"{partner.id}: channel module {partner.channel} does not load: {exc}") from exc
    try:
        return module.CHANNEL
    except AttributeError:
        raise RegistryError(f"{partner.id}: {partner.channel} defines no CHANNEL") from None
