"""Volunteer routes: the platform's whole flow, masking and audited unmasking, validation
naming the field, idempotent repeats."""

from __future__ import annotations

import base64

from tests.api.conftest import application_body, bearer

PROBLEM = "application/problem+json"


def test_application_to_approval_reads_back_masked(client, tokens, platform) -> None:
    created = platform.post("/api/volunteers", application_body())
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "APPLICANT" and body["volunteer_no"] is None and body["number"].startswith("P")
    # PII is masked in every answer, the creator's included.
    assert (
        body["name"] == "张*" and body["mobile"] == "138****5678" and body["id_number"].startswith("440309")
    )
    assert "*" in body["id_number"] and body["address"].endswith("***")

    v = platform.official()
    assert v["status"] == "OFFICIAL" and len(v["volunteer_no"]) == 10
    assert v["training_minutes"] == 120 and v["service_minutes"] == 600 and v["service_hours"] == 10.0
    for role in ("platform", "operator", "auditor"):
        r = client.get(f"/api/volunteers/{v['volunteer_no']}", headers=bearer(tokens[role]))
        assert r.status_code == 200
        detail = r.get_json()
        assert detail["name"] == "张*" and detail["has_photo"] is True
        assert [c["state"] for c in detail["cards"]] == ["ORDERED"]
        assert {f["function"] for f in detail["cards"][0]["functions"]} == {
            "TRANSIT",
            "HEALTH",
            "INSURANCE",
            "DONATION",
        }
    photo = client.get(f"/api/volunteers/{v['volunteer_no']}/photo", headers=bearer(tokens["operator"]))
    assert photo.get_json()["jpeg_base64"] is None


def test_unmasking_needs_role_and_reason_and_is_audited(client, tokens, platform) -> None:
    v = platform.official()
    url = f"/api/volunteers/{v['volunteer_no']}?unmask=true"
    # The auditor never sees PII in clear.
    r = client.get(url, headers=bearer(tokens["auditor"], **{"X-Reason": "curious"}))
    assert r.status_code == 403 and r.get_json()["type"].endswith("/unmask-forbidden")
    # A reason is required.
    r = client.get(url, headers=bearer(tokens["operator"]))
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["X-Reason"]
    r = client.get(url, headers=bearer(tokens["operator"], **{"X-Reason": "ticket 4711: wrong mobile"}))
    assert r.status_code == 200
    assert r.get_json()["name"] == "张伟" and r.get_json()["mobile"] == "13812345678"
    photo = client.get(
        f"/api/volunteers/{v['volunteer_no']}/photo?unmask=true",
        headers=bearer(tokens["platform"], **{"X-Reason": "print the card form"}),
    )
    assert base64.b64decode(photo.get_json()["jpeg_base64"])[:2] == b"\xff\xd8"

    log = client.get("/api/audit-log", headers=bearer(tokens["auditor"])).get_json()["items"]
    assert [(e["token_name"], e["reason"]) for e in log] == [
        ("operator", "ticket 4711: wrong mobile"),
        ("platform", "print the card form"),
    ]
    first = log[0]
    assert first["subjects"] == [v["volunteer_no"]] and first["path"] == url
    assert {"name", "id_number", "mobile", "address", "emergency_name", "emergency_mobile"} <= set(
        first["fields_revealed"]
    )
    assert log[1]["fields_revealed"] == ["jpeg_base64"]
    # Masked reads leave no entry; the operator cannot read the audit log.
    client.get(f"/api/volunteers/{v['volunteer_no']}", headers=bearer(tokens["operator"]))
    assert len(client.get("/api/audit-log", headers=bearer(tokens["auditor"])).get_json()["items"]) == 2
    assert client.get("/api/audit-log", headers=bearer(tokens["operator"])).status_code == 403


def test_validation_errors_name_the_field(platform) -> None:
    r = platform.post("/api/volunteers", application_body(birth_date="17/05/1990"))
    assert r.status_code == 422 and r.mimetype == PROBLEM and list(r.get_json()["errors"]) == ["birth_date"]
    body = application_body()
    del body["mobile"]
    r = platform.post("/api/volunteers", body | {"nickname": "x"})
    assert set(r.get_json()["errors"]) == {"mobile", "nickname"}
    # A domain rule (the RIC check character) also names its field and rule.
    bad = application_body()
    bad["id_number"] = bad["id_number"][:-1] + ("0" if bad["id_number"][-1] != "0" else "1")
    r = platform.post("/api/volunteers", bad)
    assert r.status_code == 422 and r.get_json()["type"].endswith("/not-eligible")
    assert r.get_json()["errors"]["id_number"][0].startswith("ID_NUMBER")
    r = platform.post("/api/volunteers/P000000000000/training", {"course": "basic", "minutes": 60})
    assert r.status_code == 404 and r.get_json()["field"] == "volunteer_no"
    assert r.get_json()["type"] == "https://svcard.example/problems/volunteer-not-found"


def test_idempotent_application_creates_one_volunteer(client, tokens, platform) -> None:
    body = application_body()
    first = platform.post("/api/volunteers", body, key="app-1")
    again = platform.post("/api/volunteers", dict(reversed(list(body.items()))), key="app-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    listed = client.get("/api/volunteers?status=APPLICANT", headers=bearer(tokens["operator"])).get_json()
    assert [v["number"] for v in listed["items"]] == [first.get_json()["number"]]
    reused = platform.post("/api/volunteers", application_body(), key="app-1")
    assert reused.status_code == 422 and reused.get_json()["type"].endswith("/idempotency-key-reused")
    # A refused request's answer is also kept for its key (nothing was created).
    dup = platform.post("/api/volunteers", body, key="app-2")
    assert dup.status_code == 409 and dup.get_json()["field"] == "id_number"


def test_choices_sessions_and_deregistration(client, tokens, platform) -> None:
    v = platform.official()
    n = v["volunteer_no"]
    r = client.patch(
        f"/api/volunteers/{n}",
        json={"opt_transit": False, "branch_code": "44002"},
        headers=bearer(tokens["platform"]),
    )
    assert (
        r.status_code == 200
        and r.get_json()["opt_transit"] is False
        and r.get_json()["branch_code"] == "44002"
    )
    r = client.patch(f"/api/volunteers/{n}", json={}, headers=bearer(tokens["platform"]))
    assert r.status_code == 422 and "body" in r.get_json()["errors"]
    r = client.patch(
        f"/api/volunteers/{n}", json={"branch_code": "99999"}, headers=bearer(tokens["platform"])
    )
    assert r.status_code == 422 and "branch_code" in r.get_json()["errors"]

    assert platform.post(f"/api/volunteers/{n}/check-in", {"activity": "library"}).status_code == 201
    again = platform.post(f"/api/volunteers/{n}/check-in", {})
    assert again.status_code == 409 and again.get_json()["type"].endswith("/session-open")
    detail = client.get(f"/api/volunteers/{n}", headers=bearer(tokens["operator"])).get_json()
    assert detail["open_session"]["activity"] == "library"

    gone = platform.post(f"/api/volunteers/{n}/deregister", {"reason": "moved away"})
    assert gone.status_code == 200
    assert gone.get_json()["volunteer"]["status"] == "DEREGISTERED"
    # The pending order was never sent: withdrawn, no CANCEL_ORDER request.
    assert gone.get_json()["cancel_requests"] == []
    card = client.get(f"/api/volunteers/{n}", headers=bearer(tokens["operator"])).get_json()["cards"][0]
    assert card["state"] == "CANCELLED"
    twice = platform.post(f"/api/volunteers/{n}/deregister", {})
    assert twice.status_code == 409 and twice.get_json()["type"].endswith("/deregistered")


def test_a_lost_idempotency_race_leaves_no_work_behind(client, tokens, platform, monkeypatch) -> None:
    """Two first attempts with one key: both run, only one commits. Simulated by hiding the
    stored answer from the second attempt's look-up, as if the first had not committed yet."""
    from gateway.api import idempotency

    first = platform.post("/api/volunteers", application_body(), key="race")
    assert first.status_code == 201
    real_find, calls = idempotency.find, []

    def late_find(session, token_id, key):
        calls.append(key)
        return None if len(calls) == 1 else real_find(session, token_id, key)

    monkeypatch.setattr(idempotency, "find", late_find)
    second = platform.post("/api/volunteers", application_body(), key="race")
    # The second attempt created a volunteer, then lost on the (token, key) constraint: its
    # whole transaction rolled back, and it answers as a repeat with another body would.
    assert second.status_code == 422 and second.get_json()["type"].endswith("/idempotency-key-reused")
    listed = client.get("/api/volunteers", headers=bearer(tokens["operator"])).get_json()["items"]
    assert [v["number"] for v in listed] == [first.get_json()["number"]]


def test_a_constraint_race_is_a_409_and_the_same_key_may_retry(platform, monkeypatch) -> None:
    from sqlalchemy.exc import IntegrityError

    from gateway.services import volunteers as svc

    n = platform.post("/api/volunteers", application_body()).get_json()["number"]
    real = svc.record_training

    def collide(*args, **kwargs):
        raise IntegrityError("INSERT ...", {}, Exception("unique constraint"))

    monkeypatch.setattr(svc, "record_training", collide)
    lost = platform.post(f"/api/volunteers/{n}/training", {"course": "basic", "minutes": 60}, key="t-1")
    assert lost.status_code == 409 and lost.get_json()["type"].endswith("/concurrent-update")
    monkeypatch.setattr(svc, "record_training", real)
    retried = platform.post(f"/api/volunteers/{n}/training", {"course": "basic", "minutes": 60}, key="t-1")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
