"""Service routes: a terminal swipe opens and closes a session with its district; every
refusal with its problem code; the repeated swipe is one; who is serving now (counts, names
for the roles that may see them); a claim during an OUTSIDE session is flagged
NOT_IN_SHENZHEN by the claims check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.insurer.client import Claim
from gateway.db import transaction
from gateway.domain.lifecycle import CardEventType as E
from gateway.models import Card, Volunteer
from gateway.partners.insurer import service as insurance
from gateway.services import cards as cs
from gateway.timeutil import beijing_today
from tests.api.conftest import bearer

_cards = iter(range(500, 10**6))


@pytest.fixture
def terminal(client, tokens) -> str:
    body = {
        "terminal_id": "POS-FT-0001",
        "organisation": "福田区义工联",
        "district": "福田区",
        "site_name": "市民中心",
    }
    r = client.post(
        "/api/terminals", json=body, headers=bearer(tokens["operator"], **{"Idempotency-Key": "term"})
    )
    assert r.status_code == 201
    return "POS-FT-0001"


def card_of(app, volunteer_no: str, *events: str) -> str:
    """Drive the volunteer's card through the bank's events; its card_id."""
    card_id = f"CARD{next(_cards):012d}"
    with transaction(app.extensions["svcard"].sessions) as s:
        card = s.query(Card).join(Card.volunteer).filter_by(volunteer_no=volunteer_no).one()
        payload = {"card_id": card_id, "masked_pan": "621785******0042", "expiry": "203111",
                   "branch_code": card.branch_code}  # fmt: skip
        for event in ("ACCEPTED", "PRODUCED", "NOTIFIED", *events):
            cs.apply_event(s, card, E(event), event_time=datetime.now(UTC), source=cs.EventSource(actor="bank-test"),
                           payload=payload)  # fmt: skip
    return card_id


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def code(r) -> str:
    assert r.mimetype == "application/problem+json", r.get_json()
    return r.get_json()["code"]


def test_a_terminal_swipe_opens_and_closes_a_session_with_its_district(
    app, client, tokens, platform, terminal
):
    v = platform.official()
    card_id = card_of(app, v["volunteer_no"], "COLLECTED")
    opened = platform.post(
        "/api/service/check-in", {"card_id": card_id, "terminal_id": terminal, "at": ago(hours=3)}
    )
    assert opened.status_code == 201, opened.get_json()
    s = opened.get_json()
    assert (s["district"], s["district_name"], s["site"], s["terminal_id"]) == (
        "440304",
        "福田区",
        "市民中心",
        terminal,
    )
    assert "Swipe-Repeated" not in opened.headers
    detail = client.get(f"/api/volunteers/{v['volunteer_no']}", headers=bearer(tokens["operator"])).get_json()
    assert detail["open_session"]["district"] == "440304"
    closed = platform.post(
        "/api/service/check-out", {"card_id": card_id, "terminal_id": terminal, "at": ago(hours=1)}
    )
    assert closed.status_code == 200 and closed.get_json()["id"] == s["id"]
    assert closed.get_json()["minutes"] == 120 and closed.get_json()["district"] == "440304"
    # the platform's own session, outside the city, and a training at the terminal
    out = platform.post("/api/service/check-in", {"volunteer_no": v["volunteer_no"], "district": "OUTSIDE"})
    assert out.status_code == 201 and out.get_json()["district"] == "OUTSIDE"
    course = {"card_id": card_id, "terminal_id": terminal, "course": "first aid", "minutes": 90}
    trained = platform.post("/api/service/training", course)
    assert trained.status_code == 201 and trained.get_json()["district"] == "440304"


def test_each_refusal_answers_its_problem_code(app, client, tokens, platform, terminal):
    v = platform.official()
    no = v["volunteer_no"]
    at_terminal = {"volunteer_no": no, "terminal_id": terminal}
    assert code(platform.post("/api/service/check-in", {"volunteer_no": no})) == "place-required"
    assert (
        code(platform.post("/api/service/check-in", {"volunteer_no": no, "district": "东莞"}))
        == "unknown-district"
    )
    assert (
        code(platform.post("/api/service/check-in", {"volunteer_no": no, "terminal_id": "POS-NONE"}))
        == "terminal-not-found"
    )
    assert (
        code(platform.post("/api/service/check-in", {"card_id": "CARD999999999999", "terminal_id": terminal}))
        == "card-not-found"
    )
    assert code(platform.post("/api/service/check-in", {"terminal_id": terminal})) == "card-or-number"
    ahead = {**at_terminal, "at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    assert code(platform.post("/api/service/check-in", ahead)) == "swipe-in-future"
    assert code(platform.post("/api/service/check-in", {"card_id": card_of(app, no), "terminal_id": terminal})) == "card-not-collected"  # fmt: skip

    for events, problem in ((("COLLECTED", "LOST_REPORTED"), "card-lost"), (("CUT_CLOSED",), "card-closed")):
        other = platform.official()
        card_id = card_of(app, other["volunteer_no"], *events)
        r = platform.post("/api/service/check-in", {"card_id": card_id, "terminal_id": terminal})
        assert r.status_code == 409 and code(r) == problem and r.get_json()["field"] == "card_id"

    assert platform.post("/api/service/check-in", {**at_terminal, "at": ago(days=2)}).status_code == 201
    again = platform.post("/api/service/check-in", {**at_terminal, "at": ago(hours=1)})
    assert again.status_code == 409 and code(again) == "session-open"
    before = platform.post("/api/service/check-out", {**at_terminal, "at": ago(days=3)})
    assert before.status_code == 422 and code(before) == "check-out-before-check-in"
    late = platform.post("/api/service/check-out", {**at_terminal, "at": ago(hours=1)})
    assert (
        late.status_code == 422
        and code(late) == "session-too-long"
        and late.get_json()["field"] == "check_out"
    )
    # the platform closes the forgotten session with its real end
    assert (
        platform.post("/api/service/check-out", {"volunteer_no": no, "at": ago(days=2, hours=-4)}).status_code
        == 200
    )
    assert code(platform.post("/api/service/check-out", {"volunteer_no": no})) == "no-open-session"
    overlap = platform.post("/api/service/check-in", {**at_terminal, "at": ago(days=2, hours=-1)})
    assert overlap.status_code == 409 and code(overlap) == "session-overlap"

    client.patch(f"/api/terminals/{terminal}", json={"active": False}, headers=bearer(tokens["operator"]))
    assert code(platform.post("/api/service/check-in", at_terminal)) == "terminal-inactive"
    deny = client.post(
        "/api/service/check-in",
        json=at_terminal,
        headers=bearer(tokens["operator"], **{"Idempotency-Key": "x"}),
    )
    assert deny.status_code == 403


def test_a_swipe_repeated_within_a_minute_is_one(app, client, tokens, platform, terminal):
    v = platform.official()
    card_id = card_of(app, v["volunteer_no"], "COLLECTED")
    at = datetime.now(UTC) - timedelta(hours=2)
    swipe = {"card_id": card_id, "terminal_id": terminal, "at": at.isoformat()}
    first = platform.post("/api/service/check-in", swipe)
    # the terminal resends 20 seconds later, with an Idempotency-Key of its own
    resent = platform.post("/api/service/check-in", {**swipe, "at": (at + timedelta(seconds=20)).isoformat()})
    assert first.status_code == resent.status_code == 201
    assert resent.get_json() == first.get_json() and resent.headers["Swipe-Repeated"] == "true"
    out = {"card_id": card_id, "terminal_id": terminal, "at": (at + timedelta(hours=1)).isoformat()}
    assert platform.post("/api/service/check-out", out).status_code == 200
    twice = platform.post(
        "/api/service/check-out", {**out, "at": (at + timedelta(hours=1, seconds=30)).isoformat()}
    )
    assert (
        twice.status_code == 200
        and twice.headers["Swipe-Repeated"] == "true"
        and twice.get_json()["minutes"] == 60
    )
    detail = client.get(f"/api/volunteers/{v['volunteer_no']}", headers=bearer(tokens["operator"])).get_json()
    assert detail["service_minutes"] == 600 + 60  # the pre-service 10 hours and this one hour, once


def test_who_is_serving_now_counts_per_district_and_site_and_names_for_pii_roles(
    app, client, tokens, platform, terminal
):
    a, b, c = (platform.official()["volunteer_no"] for _ in range(3))
    assert (
        platform.post("/api/service/check-in", {"volunteer_no": a, "terminal_id": terminal}).status_code
        == 201
    )
    assert (
        platform.post(
            "/api/service/check-in", {"volunteer_no": b, "terminal_id": terminal, "site": "莲花山"}
        ).status_code
        == 201
    )
    assert (
        platform.post("/api/service/check-in", {"volunteer_no": c, "district": "OUTSIDE"}).status_code == 201
    )

    now = client.get("/api/service/now", headers=bearer(tokens["auditor"]))
    assert now.status_code == 200, now.get_json()
    body = now.get_json()
    assert body["serving"] == 3 and body["volunteers"] is None
    assert [
        (d["district"], d["serving"], [(s["site"], s["serving"]) for s in d["sites"]])
        for d in body["districts"]
    ] == [
        ("440304", 2, [("市民中心", 1), ("莲花山", 1)]),
        ("OUTSIDE", 1, [(None, 1)]),
    ]
    denied = client.get("/api/service/now?names=true", headers=bearer(tokens["auditor"]))
    assert denied.status_code == 403 and code(denied) == "names-forbidden"

    named = client.get(
        "/api/service/now?names=true&district=福田区", headers=bearer(tokens["operator"])
    ).get_json()
    assert named["serving"] == 2 and {p["volunteer_no"] for p in named["volunteers"]} == {a, b}
    assert {p["name"] for p in named["volunteers"]} == {"张*"}  # masked
    clear = client.get(
        "/api/service/now?names=true&unmask=true",
        headers=bearer(tokens["platform"], **{"X-Reason": "event roll call"}),
    ).get_json()
    assert {p["name"] for p in clear["volunteers"]} == {"张伟"}
    log = client.get("/api/audit-log", headers=bearer(tokens["auditor"])).get_json()["items"]
    assert [(e["reason"], sorted(e["subjects"])) for e in log] == [("event roll call", sorted([a, b, c]))]


def test_a_claim_during_an_outside_session_is_flagged_not_in_shenzhen(app, platform):
    v = platform.official()
    no = v["volunteer_no"]
    start = datetime.now(UTC) - timedelta(hours=5)
    for district, hours in (("OUTSIDE", 0), ("南山区", 2)):
        at = start + timedelta(hours=hours)
        assert (
            platform.post(
                "/api/service/check-in", {"volunteer_no": no, "district": district, "at": at.isoformat()}
            ).status_code
            == 201
        )
        assert (
            platform.post(
                "/api/service/check-out", {"volunteer_no": no, "at": (at + timedelta(hours=1)).isoformat()}
            ).status_code
            == 200
        )

    def claim(claim_no: str, incident: datetime) -> Claim:
        return Claim(claim_no=claim_no, volunteer_no=no, incident_time=incident, category="MEDICAL",
                     disability_grade=None, claimed_fen=30_000, approved_fen=20_000, paid_fen=None, status="APPROVED",
                     status_time=datetime.now(UTC), reject_reason=None)  # fmt: skip

    with transaction(app.extensions["svcard"].sessions) as s:
        # approved a week ago: the sessions (up to five hours ago) fall in the registration
        # whatever the time of day (the cover counts from the start of official_since)
        volunteer = s.scalar(select(Volunteer).where(Volunteer.volunteer_no == no))
        volunteer.official_since = beijing_today() - timedelta(days=7)
        insurance.store_claims(
            s,
            [
                claim("CL-OUT", start + timedelta(minutes=30)),
                claim("CL-IN", start + timedelta(hours=2, minutes=30)),
            ],
        )
        flagged = {r.claim_no: [f["code"] for f in r.flags] for r in insurance.check_volunteer(s, no)}
    assert flagged == {"CL-OUT": ["NOT_IN_SHENZHEN"]}
