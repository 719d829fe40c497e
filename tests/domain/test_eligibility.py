"""Eligibility rules, one test (or more) per rule, named after it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from gateway.domain import eligibility as elig
from gateway.services.sample import jpeg, ric

TODAY = date(2026, 11, 28)
BRANCHES = {"44001", "44002"}


def adult(**changes) -> elig.Candidate:
    born = date(1990, 5, 17)
    c = elig.Candidate(
        name="张伟", id_type="RIC", id_number=ric("440309", born, 123, "M"), gender="M", birth_date=born,
        mobile="13812345678", address="深圳市深南大道1号", emergency_name="李娜", emergency_mobile="13912345678",
        photo=jpeg(), carrier="DEBIT", branch_code="44001", training_minutes=120, service_minutes=600,
    )  # fmt: skip
    return replace(c, **changes)


def child(years: int, months_days: tuple[int, int] = (11, 28), **changes) -> elig.Candidate:
    born = date(TODAY.year - years, *months_days)
    return adult(birth_date=born, id_number=ric("440310", born, 7, "M"), **changes)


def rules_of(problems) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in problems}


def test_a_complete_adult_is_eligible() -> None:
    assert elig.approval_problems(adult(), TODAY, BRANCHES) == []


def test_rule_min_age_ten_reached_on_the_birthday() -> None:
    guardian = dict(guardian_name="张三", guardian_mobile="13700000000")
    assert ("birth_date", "MIN_AGE") not in rules_of(
        elig.approval_problems(child(10, **guardian), TODAY, BRANCHES)
    )
    younger = child(10, (11, 29), **guardian)  # tenth birthday tomorrow
    assert ("birth_date", "MIN_AGE") in rules_of(elig.approval_problems(younger, TODAY, BRANCHES))


def test_rule_min_age_29_february_counts_as_1_march() -> None:
    born = date(2016, 2, 29)
    c = adult(
        birth_date=born,
        id_number=ric("440303", born, 7, "M"),
        guardian_name="王",
        guardian_mobile="13700000000",
    )
    assert ("birth_date", "MIN_AGE") in rules_of(elig.approval_problems(c, date(2026, 2, 28), BRANCHES))
    assert ("birth_date", "MIN_AGE") not in rules_of(elig.approval_problems(c, date(2026, 3, 1), BRANCHES))


def test_rule_guardian_recorded_under_14() -> None:
    assert ("guardian_name", "GUARDIAN") in rules_of(elig.approval_problems(child(13), TODAY, BRANCHES))
    with_guardian = child(13, guardian_name="张三", guardian_mobile="13700000000")
    assert elig.approval_problems(with_guardian, TODAY, BRANCHES) == []
    assert ("guardian_name", "GUARDIAN") not in rules_of(elig.approval_problems(child(14), TODAY, BRANCHES))


def test_rule_id_number_check_character_and_real_shenzhen_districts() -> None:
    good = adult()
    for region in ("440309", "440310", "440311"):  # districts python-stdnum's table rejects
        born = good.birth_date
        assert elig.approval_problems(adult(id_number=ric(region, born, 1, "M")), TODAY, BRANCHES) == []
    wrong = good.id_number[:17] + ("0" if good.id_number[17] != "0" else "1")
    assert ("id_number", "ID_NUMBER") in rules_of(
        elig.approval_problems(adult(id_number=wrong), TODAY, BRANCHES)
    )


def test_rule_id_number_other_types() -> None:
    assert elig.approval_problems(adult(id_type="PASSPORT", id_number="E12345678"), TODAY, BRANCHES) == []
    assert ("id_number", "ID_NUMBER") in rules_of(
        elig.approval_problems(adult(id_type="PASSPORT", id_number="e1"), TODAY, BRANCHES)
    )
    assert ("id_type", "ID_NUMBER") in rules_of(elig.approval_problems(adult(id_type="XX"), TODAY, BRANCHES))


def test_rule_ric_consistency_gender_and_birth_date() -> None:
    assert ("gender", "RIC_CONSISTENCY") in rules_of(
        elig.approval_problems(adult(gender="F"), TODAY, BRANCHES)
    )
    other_day = adult(birth_date=date(1990, 5, 18))
    assert ("birth_date", "RIC_CONSISTENCY") in rules_of(elig.approval_problems(other_day, TODAY, BRANCHES))


def test_rule_gender() -> None:
    assert ("gender", "GENDER") in rules_of(elig.approval_problems(adult(gender="X"), TODAY, BRANCHES))


@pytest.mark.parametrize("field", ["mobile", "emergency_mobile", "guardian_mobile"])
@pytest.mark.parametrize("value", ["1381234567", "12812345678", "138123456789", "+8613812345678"])
def test_rule_mobile(field, value) -> None:
    assert (field, "MOBILE") in rules_of(elig.approval_problems(adult(**{field: value}), TODAY, BRANCHES))


def test_rule_training_hours() -> None:
    assert ("training_hours", "TRAINING_HOURS") in rules_of(
        elig.approval_problems(adult(training_minutes=119), TODAY, BRANCHES)
    )


def test_rule_service_hours() -> None:
    assert ("service_hours", "SERVICE_HOURS") in rules_of(
        elig.approval_problems(adult(service_minutes=599), TODAY, BRANCHES)
    )
    # hours are not needed for a card order after approval
    assert elig.card_order_problems(adult(service_minutes=0), TODAY, BRANCHES) == []


@pytest.mark.parametrize(
    ("photo", "ok"),
    [
        (jpeg(295, 413), True),
        (jpeg(294, 413), False),
        (jpeg(295, 412), False),
        (jpeg(413, 295), False),
        (jpeg(300, 420, fmt="PNG"), False),
        (b"not an image", False),
        (None, False),
    ],
    ids=["295x413", "too-narrow", "too-short", "landscape", "png", "garbage", "missing"],
)
def test_rule_photo(photo, ok) -> None:
    assert (
        ("photo", "PHOTO") not in rules_of(elig.approval_problems(adult(photo=photo), TODAY, BRANCHES))
    ) == ok


def test_rule_carrier_credit_from_18() -> None:
    born17 = date(2008, 11, 29)  # 18 tomorrow
    c = adult(birth_date=born17, id_number=ric("440303", born17, 1, "M"), carrier="CREDIT")
    assert ("carrier", "CARRIER") in rules_of(elig.approval_problems(c, TODAY, BRANCHES))
    assert ("carrier", "CARRIER") not in rules_of(elig.approval_problems(c, date(2026, 11, 29), BRANCHES))
    assert ("carrier", "CARRIER") in rules_of(elig.approval_problems(adult(carrier="GOLD"), TODAY, BRANCHES))


def test_rule_branch_known() -> None:
    assert ("branch_code", "BRANCH") in rules_of(
        elig.approval_problems(adult(branch_code="44099"), TODAY, BRANCHES)
    )
    assert ("branch_code", "BRANCH") in rules_of(
        elig.approval_problems(adult(branch_code=None), TODAY, BRANCHES)
    )


def test_rule_field_length() -> None:
    assert ("name", "FIELD_LENGTH") in rules_of(elig.approval_problems(adult(name="x" * 31), TODAY, BRANCHES))
    assert ("address", "FIELD_LENGTH") in rules_of(elig.approval_problems(adult(address=""), TODAY, BRANCHES))


def test_all_problems_are_returned_at_once() -> None:
    c = adult(mobile="1", carrier="X", branch_code="1", photo=None, training_minutes=0, service_minutes=0)
    assert {r for _, r in rules_of(elig.approval_problems(c, TODAY, BRANCHES))} == {
        "MOBILE", "CARRIER", "BRANCH", "PHOTO", "TRAINING_HOURS", "SERVICE_HOURS",
    }  # fmt: skip
