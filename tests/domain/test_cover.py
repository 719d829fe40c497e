"""The cover rules of insurer.md ("How SVA applies the cover"), one rule per test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.domain.cover import (
    APPROVED_ABOVE_ALLOWED,
    APPROVED_BELOW_ALLOWED,
    BAD_DISABILITY_GRADE,
    NOT_IN_SESSION,
    NOT_IN_SHENZHEN,
    NOT_REGISTERED,
    PAID_ABOVE_ALLOWED,
    Registration,
    ServiceSession,
    check_cover,
)

BJ = timezone(timedelta(hours=8))
REGISTERED = Registration(datetime(2020, 1, 1, tzinfo=BJ))
# One long session per year so most tests need not think about sessions.
SESSIONS = [
    ServiceSession(datetime(y, 1, 1, tzinfo=BJ), datetime(y, 12, 31, 23, tzinfo=BJ)) for y in (2026, 2027)
]


@dataclass(frozen=True)
class C:
    claim_no: str
    incident_time: datetime
    category: str = "MEDICAL"
    claimed_fen: int = 0
    approved_fen: int | None = None
    paid_fen: int | None = None
    status: str = "APPROVED"
    disability_grade: int | None = None


def at(month: int, day: int, hour: int = 10, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, tzinfo=BJ)


def codes(check) -> set[str]:
    return {f.code for f in check.flags}


def test_medical_deductible_of_100_yuan():
    [check] = check_cover([C("A", at(3, 1), claimed_fen=50_000, approved_fen=40_000)], SESSIONS, REGISTERED)
    assert check.allowed_fen == 40_000 and not check.flagged


def test_medical_claim_below_deductible_allows_nothing():
    [check] = check_cover([C("A", at(3, 1), claimed_fen=8_000, approved_fen=8_000)], SESSIONS, REGISTERED)
    assert check.allowed_fen == 0
    assert codes(check) == {APPROVED_ABOVE_ALLOWED}


def test_medical_yearly_limit_used_in_incident_order():
    # Listed out of order on purpose: the limit is used by incident time, not list order.
    claims = [
        C("C3", at(9, 1), claimed_fen=210_000, approved_fen=200_000, paid_fen=200_000, status="PAID"),
        C("C1", at(2, 1), claimed_fen=210_000, approved_fen=200_000, paid_fen=200_000, status="PAID"),
        C("C2", at(5, 1), claimed_fen=210_000, approved_fen=200_000, status="APPROVED"),
    ]
    c3, c1, c2 = check_cover(claims, SESSIONS, REGISTERED)
    assert (c1.allowed_fen, c2.allowed_fen, c3.allowed_fen) == (200_000, 200_000, 100_000)
    assert not c1.flagged and not c2.flagged
    assert codes(c3) == {APPROVED_ABOVE_ALLOWED, PAID_ABOVE_ALLOWED}


def test_medical_yearly_limit_ties_broken_by_claim_no():
    same = at(4, 4)
    claims = [C(n, same, claimed_fen=310_000, approved_fen=300_000) for n in ("B", "A")]
    b, a = check_cover(claims, SESSIONS, REGISTERED)
    assert a.allowed_fen == 300_000 and not a.flagged
    assert b.allowed_fen == 200_000 and codes(b) == {APPROVED_ABOVE_ALLOWED}


def test_medical_yearly_limit_resets_each_beijing_year():
    # 2026-12-31 20:00 UTC is already 2027 in Beijing.
    late = datetime(2026, 12, 31, 20, tzinfo=UTC)
    claims = [
        C("A", at(6, 1, year=2026), claimed_fen=510_000, approved_fen=500_000),
        C("B", late, claimed_fen=110_000, approved_fen=100_000),
    ]
    a, b = check_cover(claims, SESSIONS, REGISTERED)
    assert a.year == 2026 and b.year == 2027
    assert not a.flagged and not b.flagged and b.allowed_fen == 100_000


def test_medical_limit_counts_what_insurer_approved_not_the_allowed_amount():
    # The insurer approved less than allowed on the first claim: the rest stays available.
    claims = [
        C("A", at(2, 1), claimed_fen=410_000, approved_fen=100_000),
        C("B", at(3, 1), claimed_fen=410_000, approved_fen=400_000),
    ]
    a, b = check_cover(claims, SESSIONS, REGISTERED)
    assert {f.code for f in a.notes} == {APPROVED_BELOW_ALLOWED} and not a.flagged
    assert b.allowed_fen == 400_000 and not b.flagged


def test_over_approved_claim_does_not_spread_flags_to_later_claims():
    # A's excess is capped at its allowed amount when counting "used".
    claims = [
        C("A", at(2, 1), claimed_fen=110_000, approved_fen=400_000),
        C("B", at(3, 1), claimed_fen=310_000, approved_fen=300_000),
    ]
    a, b = check_cover(claims, SESSIONS, REGISTERED)
    assert codes(a) == {APPROVED_ABOVE_ALLOWED}
    assert b.allowed_fen == 300_000 and not b.flagged


def test_pending_and_rejected_claims_do_not_use_the_limit_and_are_not_flagged():
    claims = [
        C("A", at(2, 1), claimed_fen=600_000, status="UNDER_REVIEW"),
        C("B", at(2, 2), claimed_fen=600_000, approved_fen=None, status="REJECTED"),
        C("C", at(3, 1), claimed_fen=510_000, approved_fen=500_000),
    ]
    a, b, c = check_cover(claims, SESSIONS, REGISTERED)
    assert not a.flagged and not b.flagged
    assert c.allowed_fen == 500_000 and not c.flagged


def test_incident_outside_any_session_is_flagged_not_in_session():
    sessions = [ServiceSession(at(3, 1, 9), at(3, 1, 12))]
    claims = [
        C("IN", at(3, 1, 11), claimed_fen=20_000, approved_fen=10_000),
        C("OUT", at(3, 1, 13), claimed_fen=20_000, approved_fen=10_000),
    ]
    inside, outside = check_cover(claims, sessions, REGISTERED)
    assert not inside.flagged
    assert codes(outside) == {NOT_IN_SESSION} and outside.allowed_fen == 0 and not outside.covered


@pytest.mark.parametrize(
    ("inside_place", "claimed_fen", "approved_fen"),
    [
        ("440304", 20_000, 10_000),
        # the year's whole limit: an uncovered outside claim must use none of it
        ("440305", 510_000, 500_000),
    ],
    ids=["small-claims", "a-years-limit-each"],
)
def test_incident_during_an_outside_session_is_flagged_not_in_shenzhen_and_uses_no_limit(
    inside_place, claimed_fen, approved_fen
):
    sessions = [
        ServiceSession(at(3, 1, 9), at(3, 1, 12), place="OUTSIDE"),
        ServiceSession(at(3, 2, 9), at(3, 2, 12), place=inside_place),
    ]
    claims = [
        C("OUT", at(3, 1, 11), claimed_fen=claimed_fen, approved_fen=approved_fen),
        C("IN", at(3, 2, 11), claimed_fen=claimed_fen, approved_fen=approved_fen),
    ]
    outside, inside = check_cover(claims, sessions, REGISTERED)
    assert codes(outside) == {NOT_IN_SHENZHEN} and outside.allowed_fen == 0 and not outside.covered
    assert not inside.flagged and inside.covered and inside.allowed_fen == approved_fen


def test_a_session_without_a_place_counts_as_inside_shenzhen():
    """insurer.md: sessions recorded before places were kept have none; they count inside."""
    [check] = check_cover(
        [C("OLD", at(3, 1, 11), claimed_fen=20_000, approved_fen=10_000)],
        [ServiceSession(at(3, 1, 9), at(3, 1, 12), place=None)],
        REGISTERED,
    )
    assert check.covered and not check.flagged


def test_an_outside_incident_of_a_deregistered_volunteer_carries_both_flags():
    reg = Registration(datetime(2026, 1, 1, tzinfo=BJ), deregistered_at=at(2, 1, 0))
    [check] = check_cover(
        [C("X", at(3, 1, 11), claimed_fen=20_000, approved_fen=10_000)],
        [ServiceSession(at(3, 1, 9), at(3, 1, 12), place="OUTSIDE")],
        reg,
    )
    assert codes(check) == {NOT_IN_SHENZHEN, NOT_REGISTERED}


def test_session_never_checked_out_ends_at_end_of_its_beijing_day():
    sessions = [ServiceSession(at(3, 1, 20), None)]
    same_day = C("A", datetime(2027, 3, 1, 23, 59, 59, tzinfo=BJ), claimed_fen=20_000, approved_fen=10_000)
    next_day = C("B", datetime(2027, 3, 2, 0, 0, 1, tzinfo=BJ), claimed_fen=20_000, approved_fen=10_000)
    a, b = check_cover([same_day, next_day], sessions, REGISTERED)
    assert not a.flagged
    assert codes(b) == {NOT_IN_SESSION}


def test_incident_after_deregistration_is_flagged_not_registered():
    reg = Registration(datetime(2026, 1, 1, tzinfo=BJ), deregistered_at=at(6, 1, 0))
    claims = [
        C("A", at(5, 31, 23), claimed_fen=20_000, approved_fen=10_000),
        C("B", at(6, 1, 0), claimed_fen=20_000, approved_fen=10_000),
    ]
    a, b = check_cover(claims, SESSIONS, reg)
    assert not a.flagged
    assert codes(b) == {NOT_REGISTERED}


def test_never_registered_volunteer_is_flagged_not_registered():
    [check] = check_cover([C("A", at(3, 1), claimed_fen=20_000, approved_fen=10_000)], SESSIONS, None)
    assert codes(check) == {NOT_REGISTERED}


@pytest.mark.parametrize(("grade", "allowed"), [(1, 10_000_000), (3, 8_000_000), (10, 1_000_000)])
def test_disability_grade_pays_eleven_minus_grade_tenths(grade, allowed):
    claim = C("D", at(3, 1), "DISABILITY", 10_000_000, approved_fen=allowed, disability_grade=grade)
    [check] = check_cover([claim], SESSIONS, REGISTERED)
    assert check.allowed_fen == allowed and not check.flagged


def test_disability_amount_above_grade_is_flagged():
    claim = C("D", at(3, 1), "DISABILITY", 10_000_000, approved_fen=9_000_000, disability_grade=3)
    [check] = check_cover([claim], SESSIONS, REGISTERED)
    assert codes(check) == {APPROVED_ABOVE_ALLOWED}


def test_disability_without_valid_grade_is_flagged():
    claim = C("D", at(3, 1), "DISABILITY", 10_000_000, approved_fen=1_000_000, disability_grade=None)
    [check] = check_cover([claim], SESSIONS, REGISTERED)
    assert BAD_DISABILITY_GRADE in codes(check)


def test_death_and_disability_together_capped_per_year():
    claims = [
        C("D1", at(3, 1), "DISABILITY", 10_000_000, approved_fen=6_000_000, disability_grade=5),
        C("D2", at(8, 1), "DEATH", 10_000_000, approved_fen=10_000_000, paid_fen=10_000_000, status="PAID"),
    ]
    d1, d2 = check_cover(claims, SESSIONS, REGISTERED)
    assert not d1.flagged
    assert d2.allowed_fen == 4_000_000
    assert codes(d2) == {APPROVED_ABOVE_ALLOWED, PAID_ABOVE_ALLOWED}


def test_death_and_medical_limits_are_separate():
    claims = [
        C("M", at(2, 1), claimed_fen=510_000, approved_fen=500_000),
        C("D", at(3, 1), "DEATH", 10_000_000, approved_fen=10_000_000),
    ]
    assert not any(c.flagged for c in check_cover(claims, SESSIONS, REGISTERED))


def test_naive_incident_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        check_cover([C("A", datetime(2027, 3, 1), claimed_fen=1)], SESSIONS, REGISTERED)
