"""Donation routes: a month's reconciliation report, and one volunteer's donations month
by month (the platform shows volunteers their own)."""

from __future__ import annotations

from datetime import date

from gateway.db import transaction
from tests.api.conftest import bearer
from tests.services.swipe_helpers import apply, at, person, receipts, swipe

D = date(2026, 11, 12)


def test_report_and_a_volunteers_months(app, client, tokens) -> None:
    with transaction(app.extensions["svcard"].sessions) as s:
        v = person(s, "CARDAPI000000001")
        no = v.volunteer_no
        apply(s, D, [swipe("A1", no, at(D), card_id="CARDAPI000000001"),
                     swipe("A2", no, at(D), card_id="CARDAPI000000001", fen=20)])  # fmt: skip
        receipts(s, ("AR1", no, 10), ("AR2", "7777777777", 5))
    got = client.get("/api/donations/202611/report", headers=bearer(tokens["auditor"]))
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    classes = {c["class"]: (c["count"], c["computed_fen"], c["booked_fen"]) for c in body["classes"]}
    assert classes["SHORT"] == (1, 20, 10) and classes["UNEXPECTED"] == (1, 0, 5)
    assert (body["computed_fen"], body["booked_fen"], body["bank_fen"]) == (20, 15, 30)
    assert [x["volunteer_no"] for x in body["bank_differs"]] == [no]
    assert [(f["txn_id"], f["flags"]) for f in body["flagged"]] == [("A2", ["BANK_DIFFERS"])]

    months = client.get(f"/api/donations/volunteers/{no}", headers=bearer(tokens["platform"])).get_json()
    assert months["months"] == [{"period": "202611", "purchases": 2, "reversals": 0, "computed_fen": 20,
                                 "bank_fen": 30, "booked_fen": 10}]  # fmt: skip

    bad = client.get("/api/donations/2026AB/report", headers=bearer(tokens["operator"]))
    assert bad.status_code == 422 and bad.get_json()["code"] == "bad-period"
    denied = client.get("/api/donations/202611/report", headers=bearer(tokens["platform"]))
    assert denied.status_code == 403
