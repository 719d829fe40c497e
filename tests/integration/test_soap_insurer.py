"""Insurer over real HTTP: roster upload, claims across pages, and the cover check on them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from adapters.insurer.client import InsurerClient
from adapters.soap import ClientFault, RetryPolicy, SoapEndpoint
from gateway.domain.cover import (
    APPROVED_ABOVE_ALLOWED,
    NOT_IN_SESSION,
    Registration,
    ServiceSession,
    check_cover,
)
from sandbox import insurer_claims
from sandbox.soap_sandbox import SoapSandbox
from sandbox.soap_server import SoapServer

BJ = timezone(timedelta(hours=8))
ROSTER = "INSROSTER_SVA_20270112_001.txt.p7m"


def sessions_for(count: int) -> dict[str, list]:
    """``count`` volunteers, each with two sessions in 2027 (one never checked out)."""
    out = {}
    for n in range(count):
        day = datetime(2027, 2, 1, 9, tzinfo=BJ) + timedelta(days=n)
        out[f"20260{n:05d}"] = [(day, day + timedelta(hours=4)), (day + timedelta(days=60, hours=10), None)]
    return out


SESSIONS = sessions_for(80)


@pytest.fixture(scope="module")
def sandbox():
    with SoapSandbox(seed=11, sessions=SESSIONS) as sb:
        yield sb


@pytest.fixture
def client(sandbox):
    user, password = sandbox.credentials["BOCINS"]
    c = InsurerClient(
        SoapEndpoint(sandbox.insurer_url, user, password, timeout=5, retry=RetryPolicy(3, 0.01)),
        sleep=lambda _: None,
    )
    yield c
    c.close()


def test_roster_upload_is_answered_with_roster_id(client):
    answer = client.upload_roster(ROSTER, b"\x30\x82\x01\x00sealed-bytes")
    assert answer.result == "ACCEPTED" and answer.error_code is None
    assert answer.roster_id


def test_roster_same_name_again_returns_first_answer_never_e06(client, sandbox):
    name = "INSROSTER_SVA_20270113_001.txt.p7m"
    first = client.upload_roster(name, b"\x30not-really-cms")
    second = client.upload_roster(name, b"\x30other bytes")
    assert second == first
    assert sandbox.insurer.applied[name] == 1


def test_roster_content_arrives_byte_for_byte(client, sandbox):
    content = bytes(range(256)) * 64
    name = "INSROSTER_SVA_20270114_001.txt.p7m"
    client.upload_roster(name, b"\x30" + content)
    assert sandbox.insurer.rosters[name][1] == b"\x30" + content


def test_roster_above_libxml2_text_limit_arrives(client, sandbox):
    # insurer.md allows 256 MB messages; one base64 text node past 10 MB must still parse.
    content = b"\x30" + bytes(12 * 1024 * 1024)
    name = "INSROSTER_SVA_20270115_001.txt.p7m"
    assert client.upload_roster(name, content).result == "ACCEPTED"
    assert sandbox.insurer.rosters[name][1] == content


def test_roster_rejection_codes_come_back(client):
    answer = client.upload_roster("ROSTER.txt", b"\x30abc")
    assert (answer.result, answer.error_code) == ("REJECTED", "E04")


def test_roster_handler_is_pluggable():
    def handler(name: str, content: bytes):
        return "PARTIAL", "E07", "line:3:id_number:bad check digit"

    with SoapSandbox(roster_handler=handler) as sb:
        user, password = sb.credentials["BOCINS"]
        c = InsurerClient(SoapEndpoint(sb.insurer_url, user, password))
        answer = c.upload_roster(ROSTER, b"\x30")
        c.close()
    assert (answer.result, answer.error_code, answer.error_text) == (
        "PARTIAL",
        "E07",
        "line:3:id_number:bad check digit",
    )


def test_claims_listed_across_pages(client, sandbox):
    total = len(sandbox.insurer.claims)
    assert total > 200  # so at least two pages
    claims = client.query_claims()
    assert sorted(c.claim_no for c in claims) == sorted(c.claim_no for c in sandbox.insurer.claims)
    assert sandbox.insurer.calls["QueryClaims"] >= 2
    assert all(c.incident_time.utcoffset() == timedelta(hours=8) for c in claims)


def test_claims_by_volunteer_and_by_claim_no(client):
    some = client.query_claims(volunteer_no="2026000003")
    assert some and {c.volunteer_no for c in some} == {"2026000003"}
    [one] = client.query_claims(claim_no=some[0].claim_no)
    assert one == some[0]


def test_claims_status_time_filter_is_inclusive_beijing_dates(client, sandbox):
    days = sorted({c.status_time.astimezone(BJ).date() for c in sandbox.insurer.claims})
    first, last = days[len(days) // 2], days[len(days) // 2 + 1]
    got = {c.claim_no for c in client.query_claims(from_date=first, to_date=last)}
    expected = {
        c.claim_no for c in sandbox.insurer.claims if first <= c.status_time.astimezone(BJ).date() <= last
    }
    assert got == expected
    # both ends count: each end day alone gives claims, and together they give the union
    assert {c.claim_no for c in client.query_claims(from_date=first, to_date=first)} < got
    assert {c.claim_no for c in client.query_claims(from_date=last, to_date=last)} < got


def test_page_token_with_other_filters_is_client_fault(client):
    token = client.soap.call("QueryClaims")["nextPageToken"]
    with pytest.raises(ClientFault, match="other filters"):
        client.soap.call("QueryClaims", volunteerNo="2026000001", pageToken=token)


def test_seeded_claims_that_break_the_cover_are_flagged_with_the_right_reasons(client, sandbox):
    by_volunteer = defaultdict(list)
    for claim in client.query_claims():
        by_volunteer[claim.volunteer_no].append(claim)
    registered = Registration(datetime(2026, 1, 1, tzinfo=BJ))
    flagged: dict[str, set[str]] = {}
    for volunteer_no, claims in by_volunteer.items():
        sessions = [ServiceSession(a, b) for a, b in SESSIONS[volunteer_no]]
        for claim, check in zip(claims, check_cover(claims, sessions, registered), strict=True):
            if check.flagged:
                flagged[claim.claim_no] = {f.code for f in check.flags}
    planted = {c.claim_no: c.defect for c in sandbox.insurer.claims if c.defect}
    assert set(flagged) == set(planted)
    expected_code = {
        insurer_claims.OVER_LIMIT: APPROVED_ABOVE_ALLOWED,
        insurer_claims.NO_DEDUCTIBLE: APPROVED_ABOVE_ALLOWED,
        insurer_claims.DISABILITY_AMOUNT: APPROVED_ABOVE_ALLOWED,
        insurer_claims.OUTSIDE_SESSION: NOT_IN_SESSION,
    }
    for claim_no, defect in planted.items():
        assert expected_code[defect] in flagged[claim_no], (claim_no, defect, flagged[claim_no])
    assert set(planted.values()) == set(insurer_claims.DEFECTS)


NAIVE_CLAIMS = b"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<QueryClaimsResponse xmlns="urn:bocins:volunteer:v1"><claim>
<claimNo>CL1</claimNo><volunteerNo>2026000001</volunteerNo><incidentTime>2027-03-01T10:00:00</incidentTime>
<category>MEDICAL</category><claimedFen>20000</claimedFen><approvedFen>10000</approvedFen>
<status>APPROVED</status><statusTime>2027-03-05T09:30:00Z</statusTime></claim>
</QueryClaimsResponse></s:Body></s:Envelope>"""


def test_claim_time_without_offset_is_read_as_beijing_and_logged(caplog):
    def partner(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [NAIVE_CLAIMS]

    with SoapServer({"/soap/insurer": partner}) as srv:
        c = InsurerClient(SoapEndpoint(srv.url(), "u", "p"))
        [claim] = c.query_claims()
        c.close()
    assert claim.incident_time == datetime(2027, 3, 1, 10, tzinfo=BJ)
    assert claim.status_time == datetime(2027, 3, 5, 17, 30, tzinfo=BJ)  # the Z was honoured
    assert "incidentTime has no UTC offset; read as Beijing time" in caplog.text
    assert "statusTime has no UTC offset" not in caplog.text
