"""The donation rule's pure parts: beneficiary by the deregistration instant, expected fen,
and fund.md's reconciliation classes (first that applies)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.domain import donations as rule

T = datetime(2026, 11, 9, 7, 0, tzinfo=UTC)


def test_beneficiary_before_at_and_after_the_deregistration_instant() -> None:
    assert rule.beneficiary("1234567890", T - timedelta(seconds=1), T, True) == "1234567890"
    assert rule.beneficiary("1234567890", T, T, True) == rule.CAMPAIGN
    assert rule.beneficiary("1234567890", T + timedelta(days=40), T, True) == rule.CAMPAIGN
    assert rule.beneficiary("1234567890", T, None, True) == "1234567890"


def test_beneficiary_of_a_number_unknown_to_sva_is_the_campaign() -> None:
    assert rule.beneficiary("1234567890", T, None, False) == rule.CAMPAIGN


def test_expected_fen_is_ten_per_net_purchase_and_may_be_negative() -> None:
    assert rule.expected_fen(5, 2) == 30
    assert rule.expected_fen(0, 3) == -30


def test_reconciliation_classes_first_that_applies() -> None:
    assert rule.classify(None, 10) == rule.UNEXPECTED
    assert rule.classify(None, 0) == rule.UNEXPECTED  # a DONATION line, even of zero
    assert rule.classify(30, None) == rule.MISSING
    assert rule.classify(0, None) == rule.MATCHED  # computed zero, nothing booked
    assert rule.classify(-10, None) == rule.MISSING
    assert rule.classify(30, 30) == rule.MATCHED
    assert rule.classify(30, 20) == rule.SHORT
    assert rule.classify(30, 40) == rule.OVER
    assert rule.classify(-10, -20) == rule.SHORT


def test_flag_names_of_a_bit_set() -> None:
    assert rule.flag_names(rule.BANK_DIFFERS | rule.DUPLICATE) == ["BANK_DIFFERS", "DUPLICATE"]
    assert rule.flag_names(0) == []


def test_reference_rule_reversal_before_purchase_and_twice() -> None:
    recs = [
        {"line": 2, "txn_id": "V", "card_id": "C", "volunteer_no": "1", "txn_time": T + timedelta(hours=2),
         "txn_type": "REVERSAL", "orig_txn_id": "P", "donation_fen": -10},
        {"line": 3, "txn_id": "P", "card_id": "C", "volunteer_no": "1", "txn_time": T,
         "txn_type": "PURCHASE", "orig_txn_id": None, "donation_fen": 10},
        {"line": 4, "txn_id": "W", "card_id": "C", "volunteer_no": "1", "txn_time": T + timedelta(hours=3),
         "txn_type": "REVERSAL", "orig_txn_id": "P", "donation_fen": -10},
    ]  # fmt: skip
    out = rule.apply_day(recs, rule.Ledger(), {"1": rule.Person(1)}, {"C": 1})
    assert [(o.txn_id, o.fen, rule.flag_names(o.flags)) for o in out] == [
        ("V", -10, []),
        ("P", 10, []),
        ("W", 0, ["BANK_DIFFERS", "REVERSED_TWICE"]),
    ]


def test_the_rule_as_records_come_decides_a_reversal_at_the_end_of_the_file() -> None:
    """A purchase is decided as it comes; a reversal waits, as its purchase may come after it."""
    day = rule.Day(rule.Ledger(), {"1": rule.Person(1)}, {"C": 1})
    reversal = {"line": 2, "txn_id": "V", "card_id": "C", "volunteer_no": "1", "txn_time": T + timedelta(hours=2),
                "txn_type": "REVERSAL", "orig_txn_id": "P", "donation_fen": -10}  # fmt: skip
    purchase = {"line": 3, "txn_id": "P", "card_id": "C", "volunteer_no": "1", "txn_time": T,
                "txn_type": "PURCHASE", "orig_txn_id": None, "donation_fen": 10}  # fmt: skip
    assert day.add(reversal) is None
    assert day.add(purchase) == rule.Outcome("P", 10, "1", 0)
    assert day.named == {"P"}
    assert [(r["txn_id"], o.fen, o.beneficiary) for r, o in day.reversals()] == [("V", -10, "1")]


def test_a_days_totals_count_purchases_valid_reversals_and_every_flagged_record() -> None:
    total = rule.DayTotal()
    total.add({"txn_type": "PURCHASE", "donation_fen": 10}, rule.Outcome("P", 10, "1", 0))
    total.add(
        {"txn_type": "PURCHASE", "donation_fen": 10}, rule.Outcome("P", 0, "1", rule.DUPLICATE | 1, True)
    )
    total.add({"txn_type": "REVERSAL", "donation_fen": -10}, rule.Outcome("V", -10, "1", 0))
    total.add(
        {"txn_type": "REVERSAL", "donation_fen": -10}, rule.Outcome("W", 0, "1", rule.REVERSED_TWICE | 1)
    )
    assert total == rule.DayTotal(purchases=1, reversals=1, computed_fen=0, bank_fen=0, flagged=2)
