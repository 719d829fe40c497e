"""Insurance and health routes: a volunteer's claims with flags, flagged claims, open
health-card requests (the health-card number is PII)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.conftest import application_body, bearer


@pytest.fixture
def care(app, platform) -> str:
    """An official volunteer with two stored claims (one flagged) and a pending ENROL."""
    from gateway.db import transaction
    from gateway.models import Card, Volunteer
    from gateway.models.health import HealthRequest
    from gateway.models.insurance import InsuranceClaim

    number = platform.official()["volunteer_no"]
    at = datetime(2026, 10, 3, 2, 0, tzinfo=UTC)
    with transaction(app.extensions["svcard"].sessions) as s:
        v = s.query(Volunteer).filter_by(volunteer_no=number).one()
        card = s.query(Card).filter_by(volunteer_id=v.id).one()
        common = dict(volunteer_no=number, volunteer_id=v.id, category="MEDICAL", claimed_fen=120000,
                      status="APPROVED", status_time=at, covered=True)  # fmt: skip
        s.add(
            InsuranceClaim(
                claim_no="C1", incident_time=at, allowed_fen=120000, flagged=False, flags=[], **common
            )
        )
        s.add(InsuranceClaim(claim_no="C2", incident_time=at.replace(day=20), approved_fen=900000, allowed_fen=500000,
                             flagged=True, flags=[{"code": "OVER_LIMIT", "reason": "above the yearly limit"}],
                             **common))  # fmt: skip
        s.add(HealthRequest(request_id="HC-1", action="ENROL", card_pk=card.id, card_id="CARD000000000042",
                            volunteer_id=v.id, volunteer_no=number, reason="COLLECTED",
                            health_card_no="440309199005170011", status="PENDING", attempts=1,
                            last_error="SZHC timed out"))  # fmt: skip
    return number


def test_claims_with_flags_and_flagged_list(client, tokens, platform, care) -> None:
    op = bearer(tokens["operator"])
    claims = client.get(f"/api/volunteers/{care}/claims", headers=op).get_json()
    assert claims["volunteer_no"] == care
    assert [(c["claim_no"], c["flagged"]) for c in claims["claims"]] == [("C1", False), ("C2", True)]
    assert claims["claims"][1]["flags"] == [{"code": "OVER_LIMIT", "reason": "above the yearly limit"}]
    assert claims["claims"][1]["allowed_fen"] == 500000
    flagged = client.get("/api/insurance/flagged-claims", headers=bearer(tokens["auditor"])).get_json()[
        "items"
    ]
    assert [c["claim_no"] for c in flagged] == ["C2"]
    # Asking the insurer needs BOCINS configured: a clear 503, not a server error.
    r = client.get(f"/api/volunteers/{care}/claims?refresh=true", headers=op)
    assert r.status_code == 503 and r.get_json()["type"].endswith("/insurer-unavailable")
    applicant = platform.post("/api/volunteers", application_body())
    r = client.get(f"/api/volunteers/{applicant.get_json()['number']}/claims", headers=op).get_json()
    assert r == {"volunteer_no": None, "claims": []}


def test_open_health_requests_mask_the_health_card_number(client, tokens, care) -> None:
    items = client.get("/api/health/requests", headers=bearer(tokens["auditor"])).get_json()["items"]
    assert [(r["request_id"], r["status"], r["last_error"]) for r in items] == [
        ("HC-1", "PENDING", "SZHC timed out")
    ]
    assert items[0]["health_card_no"] == "440309********0011"
    clear = client.get(
        "/api/health/requests?unmask=true",
        headers=bearer(tokens["operator"], **{"X-Reason": "SZHC ticket 88"}),
    ).get_json()["items"]
    assert clear[0]["health_card_no"] == "440309199005170011"
    log = client.get("/api/audit-log", headers=bearer(tokens["auditor"])).get_json()["items"]
    assert log[-1]["fields_revealed"] == ["health_card_no"] and log[-1]["subjects"] == [care]
    failed = client.get("/api/health/requests?which=needs-operator", headers=bearer(tokens["operator"]))
    assert failed.get_json()["items"] == []
