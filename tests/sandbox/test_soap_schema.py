"""The sandbox's request contract (sandbox.soap_schema): the WSDL copies it validates
against, and how a violation is worded."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from sandbox.soap_schema import WSDL_DIR, RequestContract

ROOT = Path(__file__).resolve().parents[2]
HEALTH = "urn:szhc:healthcard:v1"


@pytest.mark.parametrize("name", ["healthcard.wsdl", "insurer.wsdl"])
def test_finding_5_sandbox_wsdl_is_the_one_our_client_uses(name):
    # Both sides hold the partner's published file; a drift would hide a contract break.
    assert (WSDL_DIR / name).read_bytes() == (ROOT / "adapters" / "wsdl" / name).read_bytes()


def suspend(reason: str) -> etree._Element:
    return etree.fromstring(
        f'<h:SuspendCard xmlns:h="{HEALTH}"><h:requestId>R-1</h:requestId>'
        f"<h:healthCardNo>440300000000000001</h:healthCardNo><h:reason>{reason}</h:reason></h:SuspendCard>"
    )


def test_finding_5_enumeration_breach_names_element_and_rule_not_the_value():
    contract = RequestContract("healthcard.wsdl")
    assert contract.problem(suspend("CARD_DEAD")) is None
    problem = contract.problem(suspend("Zhang-San-440301199001011234"))
    assert problem.startswith("element reason: [facet 'enumeration'] The value is not an element of the set")
    assert "440301199001011234" not in problem


def test_finding_5_missing_element_is_named():
    contract = RequestContract("healthcard.wsdl")
    body = etree.fromstring(f'<h:QueryCard xmlns:h="{HEALTH}"/>')
    assert contract.problem(body) == (
        "element QueryCard: Missing child element(s). Expected is ( healthCardNo )"
    )
