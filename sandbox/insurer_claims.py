"""Seeded claims of the sandbox insurer, some of which deliberately break the cover rules.

The generator knows the volunteers' service sessions (given by whoever starts the
sandbox) and writes each claim's intended defect in ``SandboxClaim.defect`` so a test
or the demo can check that the gateway flags exactly those. The sandbox does not apply
the cover rules itself (that would share logic with the gateway); it only builds claims
that are clearly inside or clearly outside them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
DEDUCTIBLE = 10_000
MEDICAL_LIMIT = 500_000
SUM_INSURED = 10_000_000

# The defects the generator plants (None = a claim that follows the rules).
OVER_LIMIT = "MEDICAL_YEARLY_LIMIT_EXCEEDED"
NO_DEDUCTIBLE = "MEDICAL_DEDUCTIBLE_NOT_APPLIED"
OUTSIDE_SESSION = "INCIDENT_OUTSIDE_SESSION"
DISABILITY_AMOUNT = "DISABILITY_AMOUNT_WRONG"
DEFECTS = (OVER_LIMIT, NO_DEDUCTIBLE, OUTSIDE_SESSION, DISABILITY_AMOUNT)

Session = tuple[datetime, datetime | None]


@dataclass
class SandboxClaim:
    claim_no: str
    volunteer_no: str
    incident_time: datetime
    category: str
    claimed_fen: int
    status: str
    status_time: datetime
    disability_grade: int | None = None
    approved_fen: int | None = None
    paid_fen: int | None = None
    reject_reason: str | None = None
    defect: str | None = None


def session_end(session: Session) -> datetime:
    """Check-out, or the end of the check-in's Beijing day when never checked out."""
    start, end = session
    if end is not None:
        return end
    day = start.astimezone(BEIJING).date()
    return datetime.combine(day + timedelta(days=1), time(), BEIJING)


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.claims: list[SandboxClaim] = []
        self._next = 1

    def number(self) -> str:
        number = f"CL{self._next:010d}"
        self._next += 1
        return number

    def inside(self, session: Session) -> datetime:
        start, end = session[0], session_end(session)
        span = int((end - start).total_seconds())
        return (start + timedelta(seconds=self.rng.randint(1, max(1, span - 1)))).astimezone(BEIJING)

    def add(
        self, volunteer_no: str, incident: datetime, category: str, claimed: int, **kw: object
    ) -> SandboxClaim:
        status = str(kw.pop("status", "PAID"))
        approved = kw.pop("approved_fen", None)
        paid = kw.pop("paid_fen", approved if status == "PAID" else None)
        claim = SandboxClaim(
            claim_no=self.number(),
            volunteer_no=volunteer_no,
            incident_time=incident.replace(microsecond=0),
            category=category,
            claimed_fen=claimed,
            status=status,
            status_time=(
                incident + timedelta(days=self.rng.randint(1, 40), hours=self.rng.randint(0, 8))
            ).replace(microsecond=0),
            approved_fen=approved,  # type: ignore[arg-type]
            paid_fen=paid,  # type: ignore[arg-type]
            **kw,  # type: ignore[arg-type]
        )
        self.claims.append(claim)
        return claim


def seed_claims(seed: int, sessions: Mapping[str, Sequence[Session]]) -> list[SandboxClaim]:
    """Claims for the given volunteers (volunteer_no -> their sessions), deterministic in ``seed``.

    Every volunteer with a session gets one claim that is pending, rejected or withdrawn
    and one planted defect, cycling through :data:`DEFECTS` in volunteer order; all but
    the over-limit volunteers also get a clean paid medical claim. A volunteer without
    sessions gets one paid claim, necessarily outside any session. Claims that follow
    the rules have ``defect`` None.
    """
    b = _Builder(seed)
    for index, volunteer_no in enumerate(sorted(sessions)):
        own = sorted(sessions[volunteer_no], key=lambda s: s[0])
        if not own:
            when = datetime(2027, 1, 15, 10, tzinfo=BEIJING)
            b.add(volunteer_no, when, "MEDICAL", 30_000, approved_fen=20_000, defect=OUTSIDE_SESSION)
            continue
        defect = DEFECTS[index % len(DEFECTS)]
        if defect != OVER_LIMIT:
            # (the over-limit volunteer gets no other approved medical claim, so the
            # limit is reached exactly where planted)
            claimed = b.rng.randrange(20_000, 120_000, 100)
            b.add(volunteer_no, b.inside(own[0]), "MEDICAL", claimed, approved_fen=claimed - DEDUCTIBLE)
        pending = b.rng.choice(["REPORTED", "UNDER_REVIEW", "REJECTED", "WITHDRAWN"])
        b.add(
            volunteer_no,
            b.inside(own[-1]),
            "MEDICAL",
            b.rng.randrange(5_000, 50_000, 100),
            status=pending,
            reject_reason="expenses not related to the incident" if pending == "REJECTED" else None,
        )
        if defect == OVER_LIMIT:
            # Three incidents seconds apart in one session: 2,500 + 2,500 yuan use up the
            # year's 5,000, so the third (in incident order) is allowed nothing.
            start = own[-1][0].astimezone(BEIJING)
            for n in (1, 2, 3):
                b.add(volunteer_no, start + timedelta(seconds=n), "MEDICAL", 260_000, approved_fen=250_000)
            b.claims[-1].defect = OVER_LIMIT
        elif defect == NO_DEDUCTIBLE:
            amount = b.rng.randrange(15_000, 60_000, 100)
            b.add(
                volunteer_no, b.inside(own[-1]), "MEDICAL", amount, approved_fen=amount, defect=NO_DEDUCTIBLE
            )
        elif defect == OUTSIDE_SESSION:
            after = session_end(own[-1]) + timedelta(days=3, hours=2)
            b.add(volunteer_no, after, "MEDICAL", 40_000, approved_fen=30_000, defect=OUTSIDE_SESSION)
        else:
            grade = b.rng.randint(2, 10)
            wrong = (11 - grade) * SUM_INSURED // 10 + SUM_INSURED // 10
            b.add(
                volunteer_no,
                b.inside(own[-1]),
                "DISABILITY",
                SUM_INSURED,
                disability_grade=grade,
                approved_fen=wrong,
                status="APPROVED",
                defect=DISABILITY_AMOUNT,
            )
    return b.claims
