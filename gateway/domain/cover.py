"""The volunteer accident cover, as SVA applies it to check the insurer's figures.

insurer.md, "How SVA applies the cover". Pure: no I/O, imports nothing of ours but the
domain's places. One function, :func:`check_cover`, is the rule; it takes one
volunteer's claims, service sessions (with their place) and registration interval and
says, per claim, what the cover allows and what is wrong with the insurer's figures
(which SVA never changes).

Rules, in the words of the spec:

* covered = the incident lies in a recorded service session (check-in to check-out; a
  session never checked out ends at the end of its Beijing day), inside Shenzhen (a
  session whose place is ``OUTSIDE`` is not; one without a place, recorded before places
  were kept, is), and the volunteer was registered (official since ≤ incident <
  deregistration instant);
* year = Beijing calendar year of ``incident_time``; within a year APPROVED and PAID
  claims use the limits in incident order, ties by claim number;
* MEDICAL allowed = max(0, min(claimed − 10,000, 500,000 − used));
* DISABILITY grade g pays (11 − g) × 10 % of 10,000,000; DEATH pays 10,000,000; DEATH
  and DISABILITY together at most 10,000,000 per volunteer per year;
* an APPROVED/PAID claim is flagged when approved or paid is above allowed, or the
  incident is not covered; an amount below allowed is noted, not flagged.

"Used" (docs/decisions.md, cover rules): each earlier APPROVED/PAID claim uses what the
insurer approved (paid, once PAID), capped at that claim's own allowed amount; an
uncovered claim is allowed 0 and so uses nothing. A flag thus points at the claim at
fault and never spreads to the legitimate claims after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol

from gateway.domain.places import in_shenzhen
from schemas.fields import BEIJING

DEDUCTIBLE_FEN = 10_000  # 100 yuan per medical claim
MEDICAL_LIMIT_FEN = 500_000  # 5,000 yuan per volunteer per calendar year
SUM_INSURED_FEN = 10_000_000  # 100,000 yuan: death; disability grade 1; their yearly cap

CHECKED_STATUSES = ("APPROVED", "PAID")

# Flag codes (stable: stored with flagged claims and shown to operators).
NOT_IN_SESSION = "NOT_IN_SESSION"
NOT_IN_SHENZHEN = "NOT_IN_SHENZHEN"
NOT_REGISTERED = "NOT_REGISTERED"
APPROVED_ABOVE_ALLOWED = "APPROVED_ABOVE_ALLOWED"
PAID_ABOVE_ALLOWED = "PAID_ABOVE_ALLOWED"
BAD_DISABILITY_GRADE = "BAD_DISABILITY_GRADE"
UNKNOWN_CATEGORY = "UNKNOWN_CATEGORY"
AMOUNT_MISSING = "AMOUNT_MISSING"

# Note codes (informative, not flags).
APPROVED_BELOW_ALLOWED = "APPROVED_BELOW_ALLOWED"
PAID_BELOW_ALLOWED = "PAID_BELOW_ALLOWED"


class ClaimFacts(Protocol):
    """What the rule reads from a claim (``adapters.insurer.client.Claim`` fits)."""

    @property
    def claim_no(self) -> str: ...
    @property
    def incident_time(self) -> datetime: ...
    @property
    def category(self) -> str: ...
    @property
    def disability_grade(self) -> int | None: ...
    @property
    def claimed_fen(self) -> int: ...
    @property
    def approved_fen(self) -> int | None: ...
    @property
    def paid_fen(self) -> int | None: ...
    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class ServiceSession:
    check_in: datetime
    check_out: datetime | None = None
    place: str | None = None  # a district code, ``OUTSIDE``, or None (recorded before places)

    @property
    def in_shenzhen(self) -> bool:
        return in_shenzhen(self.place)

    def contains(self, instant: datetime) -> bool:
        if self.check_out is not None:
            return self.check_in <= instant <= self.check_out
        day = self.check_in.astimezone(BEIJING).date()
        end_of_day = datetime.combine(day + timedelta(days=1), time(), BEIJING)
        return self.check_in <= instant < end_of_day


@dataclass(frozen=True)
class Registration:
    """Official since; deregistration instant (None while registered)."""

    official_since: datetime
    deregistered_at: datetime | None = None

    def contains(self, instant: datetime) -> bool:
        return self.official_since <= instant and (
            self.deregistered_at is None or instant < self.deregistered_at
        )


@dataclass(frozen=True)
class Finding:
    code: str
    reason: str


@dataclass(frozen=True)
class CoverCheck:
    """The cover's verdict on one claim. ``allowed_fen`` is 0 when not covered."""

    claim_no: str
    year: int
    covered: bool
    allowed_fen: int
    flags: tuple[Finding, ...] = ()
    notes: tuple[Finding, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


def check_cover(
    claims: Iterable[ClaimFacts],
    sessions: Sequence[ServiceSession],
    registration: Registration | None,
) -> list[CoverCheck]:
    """Apply the cover to one volunteer's claims; answers in the order the claims came.

    Pass every claim the insurer holds for the volunteer (at least every APPROVED/PAID
    one of the years concerned): the yearly limits depend on the earlier claims.
    """
    claims = list(claims)
    for claim in claims:
        if claim.incident_time.tzinfo is None:
            raise ValueError(f"claim {claim.claim_no}: incident_time must be timezone-aware")
    ordered = sorted(claims, key=lambda c: (c.incident_time, c.claim_no))
    medical_used: dict[int, int] = {}
    lump_used: dict[int, int] = {}  # DEATH + DISABILITY, per year
    verdicts: dict[int, CoverCheck] = {}
    for claim in ordered:
        year = claim.incident_time.astimezone(BEIJING).year
        flags: list[Finding] = []
        notes: list[Finding] = []
        checked = claim.status in CHECKED_STATUSES

        during = [s for s in sessions if s.contains(claim.incident_time)]
        inside = any(s.in_shenzhen for s in during)
        registered = registration is not None and registration.contains(claim.incident_time)
        if not during:
            flags.append(Finding(NOT_IN_SESSION, "incident not inside any recorded service session"))
        elif not inside:
            flags.append(Finding(NOT_IN_SHENZHEN, "incident during a session recorded outside Shenzhen"))
        if not registered:
            flags.append(Finding(NOT_REGISTERED, "volunteer not registered at the incident time"))
        covered = inside and registered

        if claim.category == "MEDICAL":
            used = medical_used.get(year, 0)
            allowed = max(0, min(claim.claimed_fen - DEDUCTIBLE_FEN, MEDICAL_LIMIT_FEN - used))
            reason = (
                f"medical: claimed less 100 yuan deductible, within the year's 5,000 yuan ({used} fen used)"
            )
        elif claim.category in ("DEATH", "DISABILITY"):
            benefit = _lump_benefit(claim, flags)
            used = lump_used.get(year, 0)
            allowed = max(0, min(benefit, SUM_INSURED_FEN - used))
            reason = (
                f"{claim.category.lower()}: benefit {benefit} fen, {used} fen of the year's 100,000 yuan used"
            )
        else:
            flags.append(Finding(UNKNOWN_CATEGORY, f"category {claim.category!r} is not in the cover"))
            allowed, reason = 0, "not a covered benefit"
        if not covered:
            allowed = 0

        if checked:
            approved, paid = claim.approved_fen, claim.paid_fen
            if approved is None and (claim.status == "APPROVED" or paid is None):
                flags.append(Finding(AMOUNT_MISSING, f"{claim.status} claim without an approved amount"))
            if covered:
                _compare(flags, notes, "approved", approved, allowed, reason)
                _compare(flags, notes, "paid", paid, allowed, reason)
            consumed = min(_consumed(claim), allowed)
            if claim.category == "MEDICAL":
                medical_used[year] = medical_used.get(year, 0) + consumed
            elif claim.category in ("DEATH", "DISABILITY"):
                lump_used[year] = lump_used.get(year, 0) + consumed
        else:
            flags = []  # only APPROVED and PAID claims are checked; others are not flagged

        verdicts[id(claim)] = CoverCheck(claim.claim_no, year, covered, allowed, tuple(flags), tuple(notes))
    return [verdicts[id(c)] for c in claims]


def _lump_benefit(claim: ClaimFacts, flags: list[Finding]) -> int:
    if claim.category == "DEATH":
        return SUM_INSURED_FEN
    grade = claim.disability_grade
    if grade is None or not 1 <= grade <= 10:
        flags.append(Finding(BAD_DISABILITY_GRADE, f"disability grade {grade!r} is not 1-10"))
        return 0
    return (11 - grade) * SUM_INSURED_FEN // 10


def _consumed(claim: ClaimFacts) -> int:
    """What the insurer has committed on a claim: paid once PAID, else approved."""
    if claim.status == "PAID" and claim.paid_fen is not None:
        return claim.paid_fen
    return claim.approved_fen or 0


def _compare(
    flags: list[Finding], notes: list[Finding], what: str, amount: int | None, allowed: int, reason: str
) -> None:
    if amount is None:
        return
    if amount > allowed:
        code = APPROVED_ABOVE_ALLOWED if what == "approved" else PAID_ABOVE_ALLOWED
        flags.append(Finding(code, f"{what} {amount} fen above allowed {allowed} fen ({reason})"))
    elif amount < allowed:
        code = APPROVED_BELOW_ALLOWED if what == "approved" else PAID_BELOW_ALLOWED
        notes.append(Finding(code, f"{what} {amount} fen below allowed {allowed} fen"))
