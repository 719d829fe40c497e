"""The donation rule (bank.md SWIPE) as the swipe ingestion applies it, on hand-made files,
on SQLite and PostgreSQL. Each test is named after the rule it checks."""

from __future__ import annotations

import random
from datetime import date, timedelta

from gateway.domain import donations as rule
from gateway.services import reconciliation as rec
from tests.services import foundation_helpers
from tests.services.swipe_helpers import (
    apply,
    at,
    day_totals,
    duplicates,
    flags,
    person,
    reversed_by,
    stored,
    swipe,
    utc_of,
)

D1, D2 = date(2026, 11, 9), date(2026, 11, 10)
CAMPAIGN = rule.CAMPAIGN
# the shared migrated database (SQLite and PostgreSQL), rolled back after each test
db, shared_runtime = foundation_helpers.db, foundation_helpers.shared_runtime


def test_purchase_donates_ten_and_refund_nothing(db) -> None:
    v = person(db, "CARDAAAAAAAAAA01")
    s = apply(db, D1, [swipe("P1", v.volunteer_no, at(D1), card_id="CARDAAAAAAAAAA01"),
                       swipe("R1", v.volunteer_no, at(D1, 11), "REFUND", card_id="CARDAAAAAAAAAA01")])  # fmt: skip
    assert (s.records, s.stored, s.duplicates, s.flagged) == (2, 2, 0, 0)
    assert stored(db, "P1").fen == 10 and stored(db, "R1").fen == 0
    assert day_totals(db, v.volunteer_no) == {D1: (1, 0, 10, 10)}


def test_reversal_of_a_purchase_from_an_earlier_day(db) -> None:
    v = person(db, "CARDAAAAAAAAAA02")
    apply(db, D1, [swipe("P2", v.volunteer_no, at(D1), card_id="CARDAAAAAAAAAA02")])
    apply(db, D2, [swipe("V2", v.volunteer_no, at(D2), "REVERSAL", "P2", card_id="CARDAAAAAAAAAA02")])
    assert stored(db, "V2").fen == -10 and flags(db, "V2") == set()
    assert reversed_by(db, "P2") == "V2"
    assert day_totals(db, v.volunteer_no) == {D1: (1, 0, 10, 10), D2: (0, 1, -10, -10)}


def test_reversal_of_an_unknown_purchase_donates_nothing_and_is_flagged(db) -> None:
    v = person(db, "CARDAAAAAAAAAA03")
    s = apply(
        db, D1, [swipe("V3", v.volunteer_no, at(D1), "REVERSAL", "NOSUCHTXN", card_id="CARDAAAAAAAAAA03")]
    )
    assert stored(db, "V3").fen == 0
    assert flags(db, "V3") == {"REVERSAL_OF_NOTHING", "BANK_DIFFERS"}  # the bank said -10
    assert s.flagged == 1 and (s.computed_fen, s.bank_fen) == (0, -10)


def test_a_refund_is_not_a_purchase_a_reversal_can_take_back(db) -> None:
    v = person(db, "CARDAAAAAAAAAA13")
    apply(db, D1, [swipe("F13", v.volunteer_no, at(D1), "REFUND", card_id="CARDAAAAAAAAAA13"),
                   swipe("V13", v.volunteer_no, at(D1, 12), "REVERSAL", "F13", card_id="CARDAAAAAAAAAA13")])  # fmt: skip
    assert stored(db, "V13").fen == 0 and "REVERSAL_OF_NOTHING" in flags(db, "V13")


def test_a_double_reversal_donates_once(db) -> None:
    v = person(db, "CARDAAAAAAAAAA04")
    no = v.volunteer_no
    apply(db, D1, [swipe("P4", no, at(D1, 9), card_id="CARDAAAAAAAAAA04"),
                   swipe("V4A", no, at(D1, 12), "REVERSAL", "P4", card_id="CARDAAAAAAAAAA04"),
                   swipe("V4B", no, at(D1, 11), "REVERSAL", "P4", card_id="CARDAAAAAAAAAA04")])  # fmt: skip
    apply(db, D2, [swipe("V4C", no, at(D2), "REVERSAL", "P4", card_id="CARDAAAAAAAAAA04")])
    # the earlier reversal (by time, whatever the line) takes the purchase back
    assert stored(db, "V4B").fen == -10 and reversed_by(db, "P4") == "V4B"
    assert stored(db, "V4A").fen == 0 and "REVERSED_TWICE" in flags(db, "V4A")
    assert stored(db, "V4C").fen == 0 and "REVERSED_TWICE" in flags(db, "V4C")
    assert day_totals(db, no) == {D1: (1, 1, 0, -10), D2: (0, 0, 0, -10)}


def test_a_duplicate_txn_id_across_two_files_donates_nothing(db) -> None:
    v = person(db, "CARDAAAAAAAAAA05")
    apply(db, D1, [swipe("P5", v.volunteer_no, at(D1), card_id="CARDAAAAAAAAAA05")])
    s = apply(db, D2, [swipe("P5", v.volunteer_no, at(D2), card_id="CARDAAAAAAAAAA05"),
                       swipe("P5", v.volunteer_no, at(D2, 11), card_id="CARDAAAAAAAAAA05")])  # fmt: skip
    assert (s.stored, s.duplicates, s.computed_fen) == (0, 2, 0)
    assert stored(db, "P5").day == D1  # the first one stays, unchanged
    dups = duplicates(db, "P5")
    assert len(dups) == 2 and all(rule.flag_names(d.flags) == ["BANK_DIFFERS", "DUPLICATE"] for d in dups)
    assert day_totals(db, v.volunteer_no)[D2] == (0, 0, 0, 20)


def test_a_duplicate_txn_id_within_one_file_counts_the_first_line(db) -> None:
    v = person(db, "CARDAAAAAAAAAA15")
    s = apply(db, D1, [swipe("P15", v.volunteer_no, at(D1, 9), card_id="CARDAAAAAAAAAA15"),
                       swipe("P15", v.volunteer_no, at(D1, 8), "REFUND", card_id="CARDAAAAAAAAAA15")])  # fmt: skip
    assert (s.stored, s.duplicates) == (1, 1)
    assert stored(db, "P15").txn_type == "PURCHASE" and stored(db, "P15").line == 2


def test_purchases_one_second_before_and_at_the_deregistration_instant(db) -> None:
    instant = at(D1, 15, 0, 0)
    v = person(db, "CARDAAAAAAAAAA06", deregistered_at=utc_of(instant))
    no = v.volunteer_no
    apply(db, D1, [swipe("BEFORE", no, instant - timedelta(seconds=1), card_id="CARDAAAAAAAAAA06"),
                   swipe("AT", no, instant, card_id="CARDAAAAAAAAAA06")])  # fmt: skip
    assert stored(db, "BEFORE").beneficiary == no
    assert stored(db, "AT").beneficiary == CAMPAIGN
    # later reversals follow their purchases, although both are after the instant
    apply(db, D2, [swipe("RB", no, at(D2), "REVERSAL", "BEFORE", card_id="CARDAAAAAAAAAA06"),
                   swipe("RA", no, at(D2), "REVERSAL", "AT", card_id="CARDAAAAAAAAAA06")])  # fmt: skip
    assert (stored(db, "RB").beneficiary, stored(db, "RB").fen) == (no, -10)
    assert (stored(db, "RA").beneficiary, stored(db, "RA").fen) == (CAMPAIGN, -10)
    assert day_totals(db, no) == {D1: (1, 0, 10, 10), D2: (0, 1, -10, -10)}
    assert day_totals(db, CAMPAIGN)[D1][:3] == (1, 0, 10)


def test_a_reversal_listed_before_its_purchase_in_the_same_file_matches(db) -> None:
    v = person(db, "CARDAAAAAAAAAA07")
    no = v.volunteer_no
    apply(db, D1, [swipe("V7", no, at(D1, 18), "REVERSAL", "P7", card_id="CARDAAAAAAAAAA07"),
                   swipe("P7", no, at(D1, 9), card_id="CARDAAAAAAAAAA07")])  # fmt: skip
    assert stored(db, "V7").fen == -10 and flags(db, "V7") == set()
    assert day_totals(db, no) == {D1: (1, 1, 0, 0)}


def test_a_card_unknown_to_sva_is_flagged_and_does_not_move_the_donation(db) -> None:
    v = person(db, "CARDAAAAAAAAAA08")
    other = person(db, "CARDAAAAAAAAAA09")
    apply(db, D1, [swipe("U8", v.volunteer_no, at(D1), card_id="CARDUNKNOWN00000"),
                   swipe("O8", v.volunteer_no, at(D1), card_id="CARDAAAAAAAAAA09")])  # fmt: skip
    assert flags(db, "U8") == {"UNKNOWN_CARD"} and stored(db, "U8").beneficiary == v.volunteer_no
    assert flags(db, "O8") == {"CARD_OTHER_VOLUNTEER"} and stored(db, "O8").beneficiary == v.volunteer_no
    assert day_totals(db, v.volunteer_no) == {D1: (2, 0, 20, 20)}
    assert day_totals(db, other.volunteer_no) == {}


def test_a_volunteer_number_unknown_to_sva_donates_to_the_campaign(db) -> None:
    apply(db, D1, [swipe("N10", "9999999999", at(D1), card_id="CARDNOBODY000000")])
    assert stored(db, "N10").beneficiary == CAMPAIGN
    assert flags(db, "N10") == {"UNKNOWN_VOLUNTEER", "UNKNOWN_CARD"}


def test_the_banks_figure_wrong_on_one_record_is_flagged_and_sva_keeps_its_own(db) -> None:
    v = person(db, "CARDAAAAAAAAAA11")
    no = v.volunteer_no
    apply(db, D1, [swipe("P11", no, at(D1), card_id="CARDAAAAAAAAAA11", fen=20),
                   swipe("Q11", no, at(D1), card_id="CARDAAAAAAAAAA11")])  # fmt: skip
    assert stored(db, "P11").fen == 10 and flags(db, "P11") == {"BANK_DIFFERS"}
    assert day_totals(db, no) == {D1: (2, 0, 20, 30)}


def test_a_month_whose_figure_is_negative(db) -> None:
    v = person(db, "CARDAAAAAAAAAA12")
    no = v.volunteer_no
    jan, feb = date(2027, 1, 31), date(2027, 2, 1)
    apply(db, jan, [swipe("J1", no, at(jan), card_id="CARDAAAAAAAAAA12"),
                    swipe("J2", no, at(jan, 11), card_id="CARDAAAAAAAAAA12")])  # fmt: skip
    apply(db, feb, [swipe("F1", no, at(feb), "REVERSAL", "J1", card_id="CARDAAAAAAAAAA12"),
                    swipe("F2", no, at(feb), "REVERSAL", "J2", card_id="CARDAAAAAAAAAA12"),
                    swipe("F3", no, at(feb, 12), card_id="CARDAAAAAAAAAA12")])  # fmt: skip
    jan_line = next(x for x in rec.expected_lines(db, "202701") if x["volunteer_no"] == no)
    feb_line = next(x for x in rec.expected_lines(db, "202702") if x["volunteer_no"] == no)
    assert (jan_line["purchase_count"], jan_line["reversal_count"], jan_line["expected_fen"]) == (2, 0, 20)
    assert (feb_line["purchase_count"], feb_line["reversal_count"], feb_line["expected_fen"]) == (1, 2, -10)
    months = {m.period: m.computed_fen for m in rec.volunteer_months(db, no)}
    assert months == {"202701": 20, "202702": -10}


def test_the_set_based_ingestion_agrees_with_the_reference_rule(db) -> None:
    """Random days with duplicates, reversals in any order, unknown purchases and cards,
    a deregistration mid-day: SQL and the record-by-record rule give the same figures."""
    rng = random.Random(8)
    people = [person(db, f"CARDRND{i:09d}") for i in range(3)]
    people[1].deregistered_at = utc_of(at(D1, 12))
    db.flush()
    volunteers = {p.volunteer_no: rule.Person(p.id, p.deregistered_at) for p in people}
    cards = {f"CARDRND{i:09d}": p.id for i, p in enumerate(people)}
    ledger = rule.Ledger()
    seen_ids: list[str] = []
    expected: dict[tuple[date, str], list[int]] = {}
    for n, day in enumerate((D1, D2)):
        records = []
        for i in range(300):
            kind = rng.choices(["PURCHASE", "REFUND", "REVERSAL"], [6, 1, 3])[0]
            who = rng.choice([*volunteers, "8888888888"])
            card = rng.choice([*cards, "CARDSTRANGER0000"])
            txn = rng.choice(seen_ids) if seen_ids and rng.random() < 0.05 else f"T{n}X{i}"
            orig = None
            if kind == "REVERSAL":
                orig = (
                    rng.choice(seen_ids) if seen_ids and rng.random() < 0.8 else f"T{n}X{rng.randrange(300)}"
                )
            t = at(day, rng.randrange(24), rng.randrange(60), rng.randrange(60))
            records.append(swipe(txn, who, t, kind, orig, card, fen=rng.choice([None, None, None, 0, 10])))
            seen_ids.append(txn)
        # the reference works with aware instants, like the stored deregistration
        ref_in = [dict(r, line=i, txn_time=utc_of(r["txn_time"])) for i, r in enumerate(records, start=2)]
        for r, o in zip(ref_in, rule.apply_day(ref_in, ledger, volunteers, cards), strict=True):
            e = expected.setdefault((day, o.beneficiary), [0, 0, 0, 0])
            e[0] += (not o.duplicate) and r["txn_type"] == "PURCHASE"
            e[1] += r["txn_type"] == "REVERSAL" and o.fen != 0
            e[2] += o.fen
            e[3] += r["donation_fen"]
        apply(db, day, records)
    got: dict[tuple[date, str], list[int]] = {}
    for no in [*volunteers, CAMPAIGN, "8888888888"]:
        for day, t in day_totals(db, no).items():
            got[(day, no)] = list(t)
    assert got == {k: [int(x) for x in v] for k, v in expected.items()}
