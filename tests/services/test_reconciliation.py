"""fund.md "Reconciliation": every beneficiary in exactly one class (first that applies),
BANK_DIFFERS apart, class totals adding up to the month's totals to the fen, and a late
DONATION file recomputing the month."""

from __future__ import annotations

import json
from datetime import date

from gateway.domain import donations as rule
from gateway.models.donations import DonationPeriod
from gateway.services import reconciliation as rec
from tests.services.swipe_helpers import apply, at, person, receipts, swipe, utc_of

D = date(2026, 11, 12)


def test_every_class_present_each_beneficiary_once_and_totals_add_up(db) -> None:
    a, b, c, d, e, f = (person(db, f"CARDREC00000000{i}") for i in range(6))
    e.deregistered_at = utc_of(at(D, 8))
    db.flush()

    def buy(txn, v, n, hh=10, **kw):
        return [
            swipe(f"{txn}{i}", v.volunteer_no, at(D, hh), card_id=f"CARDREC00000000{v.k}", **kw)
            for i in range(n)
        ]

    for k, v in enumerate((a, b, c, d, e, f)):
        v.k = k
    apply(db, D, [
        *buy("A", a, 2),                      # MISSING: computed 20, no DONATION line
        *buy("B", b, 2), *buy("BX", b, 1, fen=20),   # MATCHED (30), but the bank said 40: BANK_DIFFERS
        *buy("C", c, 3),                      # SHORT: 30 computed, 20 booked
        *buy("D", d, 1),                      # OVER: 10 computed, 15 booked
        *buy("E", e, 2, hh=9),                # after deregistration: the campaign's line
        *buy("F", f, 1),                      # a purchase and its reversal: computed 0, nothing booked
        swipe("FR", f.volunteer_no, at(D, 12), "REVERSAL", "F0", card_id="CARDREC000000005"),
    ])  # fmt: skip
    receipts(db,
        ("RB1", b.volunteer_no, 40), ("RB2", b.volunteer_no, -10),   # a correction adds up: 30
        ("RC1", c.volunteer_no, 20),
        ("RD1", d.volunteer_no, 15),
        ("RE1", rule.CAMPAIGN, 20),
        ("RU1", "7777777777", 10),            # UNEXPECTED: booked, nothing computed
    )  # fmt: skip
    report = rec.report(db, "202611")
    classes = {ln.volunteer_no: ln.klass for ln in report.lines}
    assert classes == {
        a.volunteer_no: "MISSING",
        b.volunteer_no: "MATCHED",
        c.volunteer_no: "SHORT",
        d.volunteer_no: "OVER",
        rule.CAMPAIGN: "MATCHED",
        f.volunteer_no: "MATCHED",
        "7777777777": "UNEXPECTED",
    }
    differs = {ln.volunteer_no for ln in report.lines if ln.bank_differs}
    assert differs == {b.volunteer_no}
    counts = {k: (c.count, c.computed_fen, c.booked_fen) for k, c in report.classes.items()}
    assert counts == {
        "UNEXPECTED": (1, 0, 10),
        "MISSING": (1, 20, 0),
        "MATCHED": (3, 30 + 20 + 0, 30 + 20),
        "SHORT": (1, 30, 20),
        "OVER": (1, 10, 15),
    }
    expected = rec.expected_lines(db, "202611")
    assert report.computed_fen == sum(x["expected_fen"] for x in expected) == 110
    assert (
        report.booked_fen == sum(c.booked_fen for c in report.classes.values()) == 40 - 10 + 20 + 15 + 20 + 10
    )
    assert report.computed_fen == sum(c.computed_fen for c in report.classes.values())
    assert {ln.volunteer_no for ln in report.outside_matched} == {
        a.volunteer_no,
        c.volunteer_no,
        d.volunteer_no,
        "7777777777",
    }
    # the flagged records behind them: B's wrong bank figure
    assert [(x.txn_id, x.flags) for x in report.flagged] == [("BX0", ["BANK_DIFFERS"])]
    # one line per beneficiary with activity; the campaign on its own; F's zero line too
    assert {x["volunteer_no"] for x in expected} == {
        a.volunteer_no, b.volunteer_no, c.volunteer_no, d.volunteer_no, rule.CAMPAIGN, f.volunteer_no
    }  # fmt: skip


def test_a_late_donation_file_recomputes_the_month(db) -> None:
    v = person(db, "CARDLATE00000001")
    apply(db, D, [swipe("L1", v.volunteer_no, at(D), card_id="CARDLATE00000001"),
                  swipe("L2", v.volunteer_no, at(D), card_id="CARDLATE00000001")])  # fmt: skip
    receipts(db, ("LR1", v.volunteer_no, 10))
    first = json.loads(db.get(DonationPeriod, "202611").report)
    assert first["classes"]["SHORT"]["count"] == 1
    receipts(db, ("LR2", v.volunteer_no, 10), ("LR1", v.volunteer_no, 10))  # LR1 again: a resend
    later = json.loads(db.get(DonationPeriod, "202611").report)
    assert later["classes"]["SHORT"]["count"] == 0 and later["classes"]["MATCHED"]["count"] == 1
    assert later["booked_fen"] == 20
    assert [m.booked_fen for m in rec.volunteer_months(db, v.volunteer_no)] == [20]
