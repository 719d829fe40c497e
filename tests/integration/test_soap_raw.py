"""The sandbox answers hand-written SOAP 1.1 envelopes sent by plain HTTP POST (no zeep),
so the WSDL contract holds without our client on both ends."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime

import pytest
import requests
from lxml import etree

from sandbox.soap_sandbox import SoapSandbox

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"


def envelope(user: str, password: str, body: str, *, nonce: bytes | None = None) -> bytes:
    nonce = nonce or os.urandom(16)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{SOAP}" xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">
  <soapenv:Header>
    <wsse:Security soapenv:mustUnderstand="1">
      <wsse:UsernameToken>
        <wsse:Username>{user}</wsse:Username>
        <wsse:Password Type="{DIGEST}">{digest}</wsse:Password>
        <wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>
        <wsu:Created>{created}</wsu:Created>
      </wsse:UsernameToken>
    </wsse:Security>
  </soapenv:Header>
  <soapenv:Body>{body}</soapenv:Body>
</soapenv:Envelope>""".encode()


ENROLL = """<h:EnrollCard xmlns:h="urn:szhc:healthcard:v1">
  <h:requestId>RAW-0001</h:requestId><h:volunteerNo>2026000009</h:volunteerNo>
  <h:idType>RIC</h:idType><h:idNumber>440301199202021234</h:idNumber>
  <h:name>Wang Wu</h:name><h:cardId>CARD-RAW</h:cardId>
</h:EnrollCard>"""


@pytest.fixture
def sandbox():
    with SoapSandbox(seed=5) as sb:
        yield sb


def post(url: str, action: str, data: bytes) -> requests.Response:
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    return requests.post(url, data=data, headers=headers, timeout=5)


def insurer_call(sandbox, operation: str, body: str) -> requests.Response:
    """``body`` posted to the sandbox insurer as ``operation``, signed in with its test account."""
    user, password = sandbox.credentials["BOCINS"]
    return post(sandbox.insurer_url, f"urn:bocins:volunteer:v1#{operation}", envelope(user, password, body))


def test_hand_written_enroll_envelope_is_answered_per_wsdl(sandbox):
    user, password = sandbox.credentials["SZHC"]
    response = post(sandbox.health_url, "urn:szhc:healthcard:v1#EnrollCard", envelope(user, password, ENROLL))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    doc = etree.fromstring(response.content)
    ns = {"s": SOAP, "h": "urn:szhc:healthcard:v1"}
    assert doc.findtext("s:Body/h:EnrollCardResponse/h:result", namespaces=ns) == "OK"
    number = doc.findtext("s:Body/h:EnrollCardResponse/h:healthCardNo", namespaces=ns)
    assert number is not None and len(number) == 18 and number.isdigit()


def test_hand_written_query_claims_envelope_is_answered(sandbox):
    body = '<i:QueryClaims xmlns:i="urn:bocins:volunteer:v1"><i:volunteerNo>2026000001</i:volunteerNo></i:QueryClaims>'
    response = insurer_call(sandbox, "QueryClaims", body)
    assert response.status_code == 200
    doc = etree.fromstring(response.content)
    assert doc.find(f"{{{SOAP}}}Body/{{urn:bocins:volunteer:v1}}QueryClaimsResponse") is not None


def test_replayed_nonce_is_refused_with_a_security_fault(sandbox):
    user, password = sandbox.credentials["SZHC"]
    message = envelope(user, password, ENROLL)
    assert post(sandbox.health_url, "urn:szhc:healthcard:v1#EnrollCard", message).status_code == 200
    replay = post(sandbox.health_url, "urn:szhc:healthcard:v1#EnrollCard", message)
    assert replay.status_code == 500
    doc = etree.fromstring(replay.content)
    code = doc.findtext(f"{{{SOAP}}}Body/{{{SOAP}}}Fault/faultcode")
    assert code == "wsse:FailedAuthentication"
    assert "replay" in doc.findtext(f"{{{SOAP}}}Body/{{{SOAP}}}Fault/faultstring")


def test_wrong_soap_action_is_client_fault(sandbox):
    user, password = sandbox.credentials["SZHC"]
    response = post(sandbox.health_url, "urn:szhc:healthcard:v1#QueryCard", envelope(user, password, ENROLL))
    assert response.status_code == 500
    assert b"<faultcode>soap:Client</faultcode>" in response.content


def test_request_with_doctype_is_refused(sandbox):
    user, password = sandbox.credentials["SZHC"]
    message = envelope(user, password, ENROLL).replace(
        b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1
    )
    response = post(sandbox.health_url, "urn:szhc:healthcard:v1#EnrollCard", message)
    assert response.status_code == 500
    assert b"DOCTYPE is not allowed" in response.content
    assert sandbox.health.calls["EnrollCard"] == 0


# ---- finding 5: the sandbox validates every request Body against its WSDL's schema


def fault_of(response: requests.Response) -> tuple[str, str]:
    assert response.status_code == 500, response.content
    doc = etree.fromstring(response.content)
    fault = doc.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    return fault.findtext("faultcode"), fault.findtext("faultstring")


def query_claims(sandbox, inner: str) -> requests.Response:
    return insurer_call(
        sandbox, "QueryClaims", f'<i:QueryClaims xmlns:i="urn:bocins:volunteer:v1">{inner}</i:QueryClaims>'
    )


def test_finding_5_elements_out_of_sequence_order_are_a_client_fault(sandbox):
    user, password = sandbox.credentials["SZHC"]
    swapped = ENROLL.replace("<h:requestId>RAW-0001</h:requestId>", "").replace(
        "</h:volunteerNo>", "</h:volunteerNo><h:requestId>RAW-0001</h:requestId>"
    )
    response = post(
        sandbox.health_url, "urn:szhc:healthcard:v1#EnrollCard", envelope(user, password, swapped)
    )
    code, text = fault_of(response)
    assert code == "soap:Client"
    assert "EnrollCard breaks the WSDL schema: element volunteerNo: This element is not expected" in text
    assert "Expected is ( requestId )" in text
    assert sandbox.health.calls["EnrollCard"] == 0 and not sandbox.health.cards


def test_finding_5_query_claims_filters_out_of_order_are_a_client_fault(sandbox):
    code, text = fault_of(
        query_claims(sandbox, "<i:toDate>2027-01-31</i:toDate><i:fromDate>2027-01-01</i:fromDate>")
    )
    assert code == "soap:Client" and "element fromDate: This element is not expected" in text


def test_finding_5_unknown_element_is_a_client_fault(sandbox):
    code, text = fault_of(
        query_claims(sandbox, "<i:volunteerNo>2026000001</i:volunteerNo><i:status>PAID</i:status>")
    )
    assert code == "soap:Client"
    assert "QueryClaims breaks the WSDL schema: element status: This element is not expected" in text
    assert sandbox.insurer.calls["QueryClaims"] == 0


def test_finding_5_unknown_element_in_upload_roster_is_a_client_fault(sandbox):
    body = (
        '<i:UploadRoster xmlns:i="urn:bocins:volunteer:v1"><i:fileName>INSROSTER_SVA_20270112_001.txt.p7m'
        "</i:fileName><i:content>MAA=</i:content><i:note>x</i:note></i:UploadRoster>"
    )
    code, text = fault_of(insurer_call(sandbox, "UploadRoster", body))
    assert code == "soap:Client" and "element note: This element is not expected" in text
    assert not sandbox.insurer.rosters  # not applied, so not remembered either


def test_finding_5_date_with_trailing_junk_is_a_client_fault_without_the_value(sandbox):
    code, text = fault_of(query_claims(sandbox, "<i:fromDate>2027-01-12junk</i:fromDate>"))
    assert code == "soap:Client"
    assert "element fromDate: the value is not a valid value of the atomic type 'xs:date'" in text
    assert "junk" not in text  # a value is never echoed: it may be personal data


def test_finding_5_date_with_a_zone_is_still_a_date(sandbox):
    response = query_claims(
        sandbox, "<i:fromDate>2027-01-12+08:00</i:fromDate><i:toDate>2027-01-31Z</i:toDate>"
    )
    assert response.status_code == 200


def test_finding_5_year_the_schema_allows_but_no_claim_has_is_a_client_fault(sandbox):
    code, text = fault_of(query_claims(sandbox, "<i:toDate>12027-01-12</i:toDate>"))
    assert code == "soap:Client" and "element toDate: not an xs:date" in text


def test_finding_5_default_namespace_request_in_order_is_answered(sandbox):
    body = '<QueryClaims xmlns="urn:bocins:volunteer:v1"><volunteerNo>2026000001</volunteerNo></QueryClaims>'
    response = insurer_call(sandbox, "QueryClaims", body)
    assert response.status_code == 200
