"""Card routes: history, lists, overdue orders, at-risk cards, loss reports and order
cancellation, and the lifecycle refusal as a problem."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.conftest import bearer


@pytest.fixture
def cards(app, platform) -> dict[str, int]:
    """Three approved volunteers' cards: ``late`` (ACKed 60 days ago, not produced),
    ``waiting`` (notified 160 days ago: at risk), ``pending`` (not yet sent)."""
    from gateway.db import transaction
    from gateway.domain.lifecycle import CardEventType as E
    from gateway.models import Card
    from gateway.services import calendar as calendar_svc
    from gateway.services import cards as cs
    from gateway.timeutil import beijing_today, utcnow

    numbers = {name: platform.official()["volunteer_no"] for name in ("late", "waiting", "pending")}
    out = {}
    with transaction(app.extensions["svcard"].sessions) as s:
        for name, number in numbers.items():
            card = s.query(Card).join(Card.volunteer).filter_by(volunteer_no=number).one()
            out[name] = card.id
            if name == "pending":
                continue
            calendar_svc.set_day0(s, card.order, beijing_today() - timedelta(days=60))
            if name == "waiting":
                when = utcnow() - timedelta(days=160)
                payload = {"card_id": "CARD000000000042", "masked_pan": "621785******0042", "expiry": "203111",
                           "branch_code": card.branch_code}  # fmt: skip
                for event in (E.ACCEPTED, E.PRODUCED, E.NOTIFIED):
                    cs.apply_event(s, card, event, event_time=when, source=cs.EventSource(actor="bank-test"),
                                   payload=payload)  # fmt: skip
    return out


def test_card_history_lists_and_watchlists(client, tokens, cards) -> None:
    op = bearer(tokens["operator"])
    card = client.get(f"/api/cards/{cards['waiting']}", headers=op).get_json()
    assert card["state"] == "NOTIFIED" and card["card_id"] == "CARD000000000042"
    assert [e["event"] for e in card["events"]][-3:] == ["ACCEPTED", "PRODUCED", "NOTIFIED"]
    assert card["events"][-1]["from_state"] == "PRODUCED" and card["events"][-1]["actor"] == "bank-test"
    assert "COLLECTED" in card["allowed_events"] and card["at_risk"] is True
    assert card["order"]["day0"] is not None

    assert client.get("/api/cards/999999", headers=op).status_code == 404
    notified = client.get("/api/cards?state=NOTIFIED", headers=op).get_json()["items"]
    assert [c["id"] for c in notified] == [cards["waiting"]]
    bad = client.get("/api/cards?state=SHREDDED", headers=op)
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["state"]

    ids, cursor = [], None
    while True:
        page = client.get(
            "/api/cards?limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=op
        ).get_json()
        assert len(page["items"]) <= 2
        ids += [c["id"] for c in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert ids == sorted(cards.values())

    risky = client.get("/api/cards/at-risk", headers=bearer(tokens["platform"])).get_json()["items"]
    assert [c["id"] for c in risky] == [cards["waiting"]]
    overdue = client.get("/api/cards/overdue-orders", headers=op).get_json()["items"]
    # ACKed 60 days ago and not produced: both results are late (15th and 20th working day).
    assert [(o["milestone"], o["late"], o["card_state"]) for o in overdue] == [
        ("PRODUCED", True, "ORDERED"),
        ("NOTIFIED", True, "ORDERED"),
    ]
    late_order = client.get(f"/api/cards/{cards['late']}", headers=op).get_json()["order_id"]
    assert {o["order"]["order_id"] for o in overdue} == {late_order}
    soon = client.get("/api/cards/overdue-orders?due_within=2", headers=op).get_json()["items"]
    assert soon[:2] == overdue and all(not o["late"] for o in soon[2:])


def test_loss_report_and_order_cancellation(client, tokens, platform, cards) -> None:
    url = f"/api/cards/{cards['waiting']}/loss-report"
    first = platform.post(url, {"reason": "lost on the metro"}, key="loss-1")
    assert first.status_code == 201
    req = first.get_json()
    assert req["request_type"] == "LOSS_REPORT" and req["card_id"] == "CARD000000000042"
    assert req["status"] == "PENDING"
    again = platform.post(url, {"reason": "lost on the metro"}, key="loss-1")
    assert again.get_json() == req and again.headers["Idempotent-Replayed"] == "true"
    card = client.get(f"/api/cards/{cards['waiting']}", headers=bearer(tokens["auditor"])).get_json()
    assert card["loss_requested"] is True
    assert (
        card["events"][-1]["event"] == "LOSS_REQUESTED"
        and card["events"][-1]["request_id"] == "platform:loss-1"
    )

    # An order never produced has no card to lose.
    r = platform.post(f"/api/cards/{cards['pending']}/loss-report", {})
    assert r.status_code == 409 and r.get_json()["type"].endswith("/card-not-losable")
    assert r.get_json()["field"] == "card_id"

    order_id = client.get(f"/api/cards/{cards['pending']}", headers=bearer(tokens["platform"])).get_json()[
        "order_id"
    ]
    cancelled = platform.post(f"/api/orders/{order_id}/cancel", {"reason": "volunteer asked"})
    assert cancelled.status_code == 200
    assert cancelled.get_json()["request"] is None and cancelled.get_json()["order"]["status"] == "CLOSED"
    assert client.get(f"/api/cards/{cards['pending']}", headers=bearer(tokens["platform"])).get_json()[
        "state"
    ] == ("CANCELLED")
    twice = platform.post(f"/api/orders/{order_id}/cancel", {})
    assert twice.status_code == 409 and twice.get_json()["type"].endswith("/order-not-cancellable")
    assert platform.post("/api/orders/NOSUCHORDER/cancel", {}).status_code == 404


def test_lifecycle_refusal_names_state_and_allowed_events(app) -> None:
    from gateway.api.domain_errors import lifecycle_error
    from gateway.domain.lifecycle import CardEventType, CardState, LifecycleError, allowed_events

    exc = LifecycleError(
        "EVENT_NOT_ALLOWED", CardState.NOTIFIED, CardEventType.ACCEPTED, allowed_events(CardState.NOTIFIED)
    )
    with app.test_request_context():
        resp = lifecycle_error(exc)
    body = resp.get_json()
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
    assert body["type"] == "https://svcard.example/problems/event-not-allowed"
    assert body["current_state"] == "NOTIFIED" and body["event"] == "ACCEPTED"
    assert "COLLECTED" in body["allowed_events"]
