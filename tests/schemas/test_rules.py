from datetime import date

import pytest

from schemas import rules

D = date(2026, 11, 30)


def test_ric_rule_accepts_spec_example_and_new_shenzhen_districts():
    assert rules.ric_problem("440303198506120872", D) is None
    for region in ("440309", "440310", "440311"):
        body = region + "20000101123"
        assert rules.ric_problem(body + rules.ric_check_character(body), D) is None


@pytest.mark.parametrize(
    "number,reason",
    [
        ("440303198506120873", "check character wrong"),
        ("44030319850612087", "not 17 digits and a check character"),
        ("44030319850612087x", "not 17 digits and a check character"),
        ("440303198502300000", None),  # placeholder replaced below
    ],
)
def test_ric_rule_refusals(number, reason):
    if reason is None:
        body = "44030319850230123"
        number, reason = body + rules.ric_check_character(body), "birth date in number not a real date"
    assert rules.ric_problem(number, D) == reason


def test_ric_rule_birth_after_business_date():
    body = "44030320270101123"
    assert (
        rules.ric_problem(body + rules.ric_check_character(body), D)
        == "birth date in number after business date"
    )


def test_ric_gender_and_birth_consistency():
    assert rules.ric_gender("440303198506120872") == "M"
    assert (
        rules.ric_consistency_problem("440303198506120872", "F", date(1985, 6, 12))
        == "gender disagrees with id number"
    )
    assert (
        rules.ric_consistency_problem("440303198506120872", "M", date(1985, 6, 13))
        == "birth date disagrees with id number"
    )
    assert rules.ric_consistency_problem("440303198506120872", "M", date(1985, 6, 12)) is None


def test_age_rule_nth_birthday_and_29_february():
    assert rules.age_on(date(2016, 11, 30), date(2026, 11, 30)) == 10
    assert rules.age_on(date(2016, 12, 1), date(2026, 11, 30)) == 9
    # 29 February counts as 1 March in common years
    assert rules.age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert rules.age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
    assert rules.age_on(date(2008, 2, 29), date(2028, 2, 29)) == 20


def test_mobile_rule():
    assert rules.is_mobile("13760012345")
    assert not rules.is_mobile("12760012345")
    assert not rules.is_mobile("1376001234")


def test_other_id_types():
    assert rules.id_number_problem("PASSPORT", "E12345678", D) is None
    assert rules.id_number_problem("HKMO", "h1234", D) == "not 5 to 20 of A-Z0-9"
    assert rules.id_number_problem("XX", "E12345678", D) == "unknown id type"
