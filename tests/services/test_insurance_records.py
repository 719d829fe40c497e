"""Insurer bookkeeping on real rows (SQLite and PostgreSQL): the roster's cover dates from
the volunteer rows, claims stored as stated, and the cover facts (sessions, registration)
taken from the foundation's models. Over the wire: tests/integration/test_insurance_*.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from adapters.insurer.client import Claim
from gateway.models import InsuranceClaim
from gateway.partners.insurer import service as insurance
from gateway.services import volunteers as vs
from tests.services.foundation_helpers import application, official


def claim(no: str, volunteer_no: str, incident: datetime, **kw) -> Claim:
    base = dict(
        claim_no=no, volunteer_no=volunteer_no, incident_time=incident, category="MEDICAL",
        disability_grade=None, claimed_fen=30_000, approved_fen=20_000, paid_fen=20_000, status="PAID",
        status_time=datetime(2026, 12, 20, tzinfo=UTC), reject_reason=None,
    )  # fmt: skip
    base.update(kw)
    return Claim(**base)


def test_roster_has_every_volunteer_ever_official_with_beijing_cover_dates(db) -> None:
    stays = official(db)
    leaves = official(db)
    vs.create_application(db, application(), actor="test")  # an applicant: never insured
    # 17:30 UTC on 31 December is already 1 January in Beijing
    vs.deregister(db, leaves.volunteer_no, at=datetime(2026, 12, 31, 17, 30, tzinfo=UTC), actor="test")
    records = {r["volunteer_no"]: r for r in insurance.roster_records(db, date(2027, 1, 2))}
    assert set(records) == {stays.volunteer_no, leaves.volunteer_no}
    assert records[stays.volunteer_no]["cover_from"] == stays.official_since == date(2026, 11, 28)
    assert records[stays.volunteer_no]["cover_to"] is None
    assert records[leaves.volunteer_no]["cover_to"] == date(2027, 1, 1)
    assert records[leaves.volunteer_no]["name"] == leaves.name  # decrypted from the row


def test_a_stale_answer_never_overwrites_a_newer_claim(db) -> None:
    v = official(db)
    incident = datetime(2026, 12, 1, 3, tzinfo=UTC)
    newer = claim("CLX1", v.volunteer_no, incident, status_time=datetime(2026, 12, 21, tzinfo=UTC))
    older = claim("CLX1", v.volunteer_no, incident, status="APPROVED", paid_fen=None)
    assert insurance.store_claims(db, [newer]) == {v.volunteer_no}
    assert insurance.store_claims(db, [older]) == set()
    row = db.scalar(select(InsuranceClaim).where(InsuranceClaim.claim_no == "CLX1"))
    assert (row.status, row.paid_fen, row.volunteer_id) == ("PAID", 20_000, v.id)
    [view] = insurance.stored_claims(db, volunteer_no=v.volunteer_no)
    assert (view.claim_no, view.status, view.paid_fen) == ("CLX1", "PAID", 20_000)


def test_cover_uses_the_volunteers_sessions_and_registration(db) -> None:
    v = official(db)  # official since 28 Nov 2026; one pre-service session on 1 Nov 2026
    vs.check_in(db, v.volunteer_no, at=datetime(2026, 12, 1, 1, tzinfo=UTC), actor="test")
    vs.check_out(db, v.volunteer_no, at=datetime(2026, 12, 1, 9, tzinfo=UTC), actor="test")
    insurance.store_claims(
        db,
        [
            claim("CLA", v.volunteer_no, datetime(2026, 12, 1, 4, tzinfo=UTC)),  # in a session, registered
            claim("CLB", v.volunteer_no, datetime(2026, 11, 1, 4, tzinfo=UTC)),  # pre-service session
            claim("CLC", v.volunteer_no, datetime(2026, 12, 2, 4, tzinfo=UTC)),  # no session
        ],
    )
    flagged = {
        r.claim_no: [f["code"] for f in r.flags] for r in insurance.check_volunteer(db, v.volunteer_no)
    }
    assert flagged == {"CLB": ["NOT_REGISTERED"], "CLC": ["NOT_IN_SESSION"]}
