"""The partner registry fails loudly: a partner package that does not load, declares no
PARTNER, a bad id or a partner twice stops start-up with an error naming it."""

from __future__ import annotations

import pytest

from gateway.partners import registry
from gateway.partners.registry import Partner, RegistryError


@pytest.fixture
def fresh_registry(monkeypatch):
    """The registry as at start-up, with ``packages`` as its built-in list."""

    def load(*packages: str):
        monkeypatch.setattr(registry, "BUILTIN", packages)
        monkeypatch.setattr(registry, "_PARTNERS", {})
        monkeypatch.setattr(registry, "_LOADED", False)
        return registry.partners()

    return load


def test_the_five_partners_load_in_the_operators_order() -> None:
    assert registry.ids()[:5] == ("BOCSZ", "SZT", "SZHC", "BOCINS", "SZVF")
    assert registry.file_partner_ids()[:3] == ("BOCSZ", "SZT", "SZVF")


def test_a_misspelled_partner_package_stops_start_up_naming_it(fresh_registry) -> None:
    with pytest.raises(RegistryError, match=r"partner package gateway\.partners\.bnak does not load"):
        fresh_registry("gateway.partners.bank", "gateway.partners.bnak")


def test_a_package_without_a_partner_declaration_is_refused(fresh_registry) -> None:
    with pytest.raises(RegistryError, match=r"gateway\.partners\.registry: PARTNER must be"):
        fresh_registry("gateway.partners.registry")


def test_a_partner_declared_twice_is_refused(fresh_registry) -> None:
    with pytest.raises(RegistryError, match="BOCSZ declared twice"):
        fresh_registry("gateway.partners.bank", "gateway.partners.bank")


@pytest.mark.parametrize(
    ("partner", "message"),
    [
        (Partner(id="bank", name="x", transport="soap"), "not 2-8 upper-case"),
        (Partner(id="TOOLONGID", name="x", transport="soap"), "not 2-8 upper-case"),
        (Partner(id="NOCHAN", name="x", transport="sftp"), "declares no channel"),
        (
            Partner(id="NOURL", name="x", transport="soap", settings=(registry.Setting("USERNAME", "u"),)),
            "no URL",
        ),
    ],
)
def test_a_badly_declared_partner_is_refused(partner, message) -> None:
    with pytest.raises(RegistryError, match=message):
        registry.register(partner)
    assert partner.id not in registry.ids()


def test_a_built_in_partner_cannot_be_replaced_or_removed() -> None:
    with pytest.raises(RegistryError, match="already registered"):
        registry.register(Partner(id="BOCSZ", name="fake", transport="soap"))
    with pytest.raises(RegistryError, match="built in"):
        registry.unregister("BOCSZ")
