"""The sandbox bank's SWIPE files and the life of collected cards (losses, reissues)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

from sandbox.clock import days
from tests.sandbox.world_kit import QUIET_BANK, make_world, order_line, order_package, outbox, put, records

D0 = date(2026, 11, 30)


def test_swipes_follow_the_donation_rule_with_the_configured_anomalies(tmp_path):
    rates = replace(
        QUIET_BANK, collect_days=(0, 0), swipes_per_card_day=20, reversal_rate=0.2, refund_rate=0.1,
        wrong_figure_rate=0.03, duplicate_txn_rate=0.03, orphan_reversal_rate=0.03,
    )  # fmt: skip
    world = make_world(tmp_path, seed=5, bank=rates)
    put(world, "BOCSZ", *order_package(D0, [order_line(f"W{i}", f"20190020{i:02d}") for i in range(4)]))
    for d in days(D0, date(2027, 1, 5)):
        world.bank.run_day(d)

    lines = []
    for g in outbox(world, "BOCSZ", "SWIPE"):
        assert all(r["txn_time"].date() == g.header.business_date for r in g.records)
        lines += g.records
    assert len(lines) > 300
    purchases = {}
    for r in lines:
        if r["txn_type"] == "PURCHASE":
            purchases.setdefault(r["txn_id"], r)
    ids = Counter(r["txn_id"] for r in lines)
    duplicates = [t for t, n in ids.items() if n > 1]
    orphans = [r for r in lines if r["txn_type"] == "REVERSAL" and r["orig_txn_id"] not in purchases]
    wrong = [
        r for r in lines if r["donation_fen"] != {"PURCHASE": 10, "REVERSAL": -10, "REFUND": 0}[r["txn_type"]]
    ]
    assert duplicates and orphans and wrong  # each anomaly present, and rare
    assert len(duplicates) + len(orphans) + len(wrong) < len(lines) * 0.15
    for r in lines:
        if r["txn_type"] == "REVERSAL" and r["orig_txn_id"] in purchases:
            orig = purchases[r["orig_txn_id"]]
            assert orig["card_id"] == r["card_id"] and orig["txn_time"].date() <= r["txn_time"].date()
    reversed_ids = Counter(r["orig_txn_id"] for r in lines if r["txn_type"] == "REVERSAL")
    assert max(reversed_ids.values()) == 1  # the bank never reverses a purchase twice
    assert any(purchases[t]["txn_time"].date() < r["txn_time"].date()
               for r in lines if r["txn_type"] == "REVERSAL" and (t := r["orig_txn_id"]) in purchases)  # fmt: skip

    # what the bank transfers to the fund: its own figures, per volunteer, in the month of txn_time
    december = Counter()
    for r in lines:
        if r["txn_time"].strftime("%Y%m") == "202612":
            december[r["volunteer_no"]] += r["donation_fen"]
    assert world.bank.monthly_transfer("202612") == {v: f for v, f in december.items() if f}


def test_lost_cards_are_reissued_and_the_new_card_is_collected_later(tmp_path):
    rates = replace(QUIET_BANK, loss_rate=1.0, incident_days=(3, 3), reissue_rate=1.0, collect_days=(2, 2))
    world = make_world(tmp_path, bank=rates)
    put(world, "BOCSZ", *order_package(D0, [order_line("L1", "2019003001", carrier="CREDIT")]))
    for d in days(D0, D0 + timedelta(days=60)):
        world.bank.run_day(d)
    events = [(e["event"], e["card_id"], e["new_card_id"]) for e in records(world, "BOCSZ", "CARDSTATUS")]
    (collected_old, lost, reissued, collected_new, lost_new, reissued_new, *_) = events
    old = collected_old[1]
    assert collected_old == ("COLLECTED", old, None) and lost == ("LOST_REPORTED", old, None)
    assert reissued[:2] == ("REISSUED", old) and reissued[2] != old
    assert collected_new == ("COLLECTED", reissued[2], None)
    assert lost_new[:2] == ("LOST_REPORTED", reissued[2]) and reissued_new[0] == "REISSUED"
    status = records(world, "BOCSZ", "CARDSTATUS")
    times = [e["event_time"] for e in status]
    assert times == sorted(times)  # events come in time order, the REISSUED after its loss
    swipes = records(world, "BOCSZ", "SWIPE")
    lost_day = next(
        e["event_time"].date() for e in records(world, "BOCSZ", "CARDSTATUS") if e["event"] == "LOST_REPORTED"
    )
    assert not [s for s in swipes if s["card_id"] == old and s["txn_time"].date() > lost_day]
