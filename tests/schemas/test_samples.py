"""The sample generator: valid, plausible, deterministic."""

from __future__ import annotations

from datetime import date

from schemas import rules
from schemas.samples import sample_file, sample_records

D = date(2027, 1, 11)


def test_same_seed_same_bytes_other_seed_other_bytes():
    for file_type in ("SWIPE", "CARDORDER", "INSROSTER"):
        a = sample_file(file_type, 20, seed=4, business_date=D)
        assert a == sample_file(file_type, 20, seed=4, business_date=D)
        assert a[1] != sample_file(file_type, 20, seed=5, business_date=D)[1]


def test_people_are_plausible():
    for r in sample_records("CARDORDER", 200, seed=1, business_date=D):
        assert rules.ric_problem(r["id_number"], D) is None
        assert rules.age_on(r["birth_date"], D) >= 10
        assert all("\u4e00" <= c <= "\u9fff" for c in r["name"])
        if r["carrier"] == "CREDIT":
            assert rules.age_on(r["birth_date"], D) >= 18


def test_swipe_reversals_point_at_purchases_of_the_file():
    records = list(sample_records("SWIPE", 2000, seed=3, business_date=D))
    purchases = {r["txn_id"] for r in records if r["txn_type"] == "PURCHASE"}
    reversals = [r for r in records if r["txn_type"] == "REVERSAL"]
    assert reversals and all(r["orig_txn_id"] in purchases for r in reversals)
    assert all(r["txn_time"].date() == D for r in records)
