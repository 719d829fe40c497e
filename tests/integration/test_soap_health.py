"""Health-card function over real HTTP: our zeep client against the sandbox SZHC service."""

from __future__ import annotations

import uuid

import pytest

from adapters.health.client import HealthCardClient
from adapters.soap import ClientFault, RetryPolicy, SoapEndpoint
from sandbox.soap_sandbox import SoapSandbox

ID = ("RIC", "440301199001011234")


@pytest.fixture
def sandbox():
    with SoapSandbox(seed=7, unknown_identities={"440301198001010000"}) as sb:
        yield sb


@pytest.fixture
def client(sandbox):
    user, password = sandbox.credentials["SZHC"]
    endpoint = SoapEndpoint(sandbox.health_url, user, password, timeout=2, retry=RetryPolicy(3, 0.01))
    c = HealthCardClient(endpoint, sleep=lambda _: None)
    yield c
    c.close()


def rid() -> str:
    return uuid.uuid4().hex


def test_enrol_gives_an_18_digit_active_health_card(client):
    result = client.enroll_card(rid(), "2026000001", *ID, "Zhang San", "CARD-1")
    assert result.result == "OK" and result.succeeded
    assert result.health_card_no is not None and len(result.health_card_no) == 18
    status = client.query_card(result.health_card_no)
    assert (status.status, status.card_id) == ("ACTIVE", "CARD-1")
    assert status.since.utcoffset() is not None


def test_enrol_on_a_replacement_moves_the_same_health_card(client):
    first = client.enroll_card(rid(), "2026000001", *ID, "Zhang San", "CARD-1")
    client.suspend_card(rid(), first.health_card_no, "CARD_DEAD")
    moved = client.enroll_card(rid(), "2026000001", *ID, "Zhang San", "CARD-2")
    assert moved.result == "OK" and moved.health_card_no == first.health_card_no
    status = client.query_card(first.health_card_no)
    assert (status.status, status.card_id) == ("ACTIVE", "CARD-2")


def test_enrol_already_active_on_same_card_is_h02_with_number(client):
    first = client.enroll_card(rid(), "2026000001", *ID, "Zhang San", "CARD-1")
    again = client.enroll_card(rid(), "2026000001", *ID, "Zhang San", "CARD-1")
    assert (again.result, again.reason_code) == ("FAILED", "H02")
    assert again.health_card_no == first.health_card_no and again.succeeded


def test_enrol_unknown_identity_is_h01(client):
    result = client.enroll_card(rid(), "2026000002", "RIC", "440301198001010000", "Li Si", "CARD-9")
    assert (result.result, result.reason_code, result.succeeded) == ("FAILED", "H01", False)


def test_suspend_then_query_shows_suspended(client):
    number = client.enroll_card(rid(), "2026000001", *ID, "Zhang San", "CARD-1").health_card_no
    assert client.suspend_card(rid(), number, "OPT_OUT").succeeded
    assert client.query_card(number).status == "SUSPENDED"


def test_suspend_unknown_health_card_is_h03(client):
    result = client.suspend_card(rid(), "440300000000000000", "DEREGISTERED")
    assert (result.result, result.reason_code) == ("FAILED", "H03")


def test_repeated_request_id_returns_first_answer_and_changes_nothing(client, sandbox):
    request_id = rid()
    number = client.enroll_card(request_id, "2026000001", *ID, "Zhang San", "CARD-1").health_card_no
    # Same requestId, different card: the first answer comes back and the card stays put.
    again = client.enroll_card(request_id, "2026000001", *ID, "Zhang San", "CARD-7")
    assert (again.result, again.health_card_no) == ("OK", number)
    assert client.query_card(number).card_id == "CARD-1"
    assert sandbox.health.applied[request_id] == 1


def test_query_unknown_health_card_is_client_fault_not_retried(client, sandbox):
    with pytest.raises(ClientFault, match="unknown healthCardNo"):
        client.query_card("440300000000000001")
    assert sandbox.health.calls["QueryCard"] == 1


def test_bad_request_id_is_refused_before_sending(client, sandbox):
    with pytest.raises(ValueError, match="requestId"):
        client.enroll_card("not valid!", "2026000001", *ID, "Zhang San", "CARD-1")
    assert sandbox.health.calls["EnrollCard"] == 0


def test_h99_is_remembered_and_a_new_request_id_gets_past_it(client, sandbox):
    sandbox.health.inject_h99(1)
    request_id = rid()
    failed = client.enroll_card(request_id, "2026000001", *ID, "Zhang San", "CARD-1")
    assert (failed.result, failed.reason_code) == ("FAILED", "H99")
    assert client.enroll_card(request_id, "2026000001", *ID, "Zhang San", "CARD-1") == failed
    assert client.enroll_card(rid(), "2026000001", *ID, "Zhang San", "CARD-1").result == "OK"
