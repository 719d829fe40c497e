"""Claims over real HTTP: QueryClaims across pages from the sandbox insurer (claims seeded
from our volunteers' own service sessions, some breaking the cover on purpose), stored as
the insurer states them and checked against the cover (gateway.domain.cover)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway import settings as settings_mod
from gateway import wiring
from gateway.cli.insurance import cli as insurance_cli
from gateway.db import transaction
from gateway.models import Alert, InsuranceClaim
from gateway.partners.insurer import service as insurance
from gateway.services import volunteers as vs
from sandbox.insurer_claims import (
    DISABILITY_AMOUNT,
    NO_DEDUCTIBLE,
    OUTSIDE_SESSION,
    OVER_LIMIT,
)
from sandbox.soap_sandbox import SoapSandbox
from tests.integration.conftest import soap_environ
from tests.services.foundation_helpers import official

pytestmark = pytest.mark.integration

# Service sessions after the volunteers became official (28 Nov 2026), in UTC.
SESSIONS = [
    (datetime(2026, 12, 1, 1, tzinfo=UTC), datetime(2026, 12, 1, 9, tzinfo=UTC)),
    (datetime(2026, 12, 5, 2, tzinfo=UTC), datetime(2026, 12, 5, 6, tzinfo=UTC)),
]
#: What our check must say about each planted defect.
EXPECTED = {
    OVER_LIMIT: "APPROVED_ABOVE_ALLOWED",  # the third claim once 5,000 yuan of the year is used
    NO_DEDUCTIBLE: "APPROVED_ABOVE_ALLOWED",
    OUTSIDE_SESSION: "NOT_IN_SESSION",
    DISABILITY_AMOUNT: "APPROVED_ABOVE_ALLOWED",
}


@pytest.fixture
def world(runtime):
    """Four official volunteers with two sessions each, and the insurer's seeded claims."""
    insurance.clear_cache()
    numbers = []
    with transaction(runtime.sessions) as s:
        for _ in range(4):
            v = official(s)
            for start, end in SESSIONS:
                vs.check_in(s, v.volunteer_no, at=start, actor="test")
                vs.check_out(s, v.volunteer_no, at=end, actor="test")
            numbers.append(v.volunteer_no)
    sandbox = SoapSandbox(seed=11, sessions={n: SESSIONS for n in numbers}).start()
    sandbox.insurer.page_size = 3  # so every answer spans several pages
    runtime.settings = settings_mod.load(
        environ=soap_environ(sandbox, "BOCINS"),
        var_dir=runtime.settings.var_dir,
        database_url=runtime.settings.database_url,
        keys_dir=runtime.settings.keys_dir,
        spool_dir=runtime.settings.spool_dir,
        retry_attempts=2,
        retry_base_delay=0.01,
    )
    yield sandbox, sorted(numbers)
    sandbox.stop()


@pytest.fixture
def ports(world, runtime):
    """The ports of the runtime once ``world`` pointed its settings at the sandbox."""
    with wiring.ports(runtime) as p:
        yield p


def planted(sandbox) -> dict[str, str]:
    return {c.claim_no: c.defect for c in sandbox.insurer.claims if c.defect}


def test_sweep_lists_every_claim_across_pages_and_flags_exactly_the_planted_defects(runtime, ports, world):
    sandbox, numbers = world
    report = insurance.sweep_claims(ports, today=date(2026, 12, 10))
    assert report.error is None and report.from_date is None  # the first sweep asks for everything
    assert report.claims_seen == len(sandbox.insurer.claims) > 3
    assert sandbox.insurer.calls["QueryClaims"] == -(-len(sandbox.insurer.claims) // 3)  # every page
    defects = planted(sandbox)
    assert set(defects.values()) == set(EXPECTED)
    assert {c.claim_no: EXPECTED[defects[c.claim_no]] in c.flag_codes for c in report.flagged} == {
        n: True for n in defects
    }
    with transaction(runtime.sessions) as s:
        rows = {r.claim_no: r for r in s.scalars(select(InsuranceClaim))}
    # the insurer's figures are stored exactly as stated
    for c in sandbox.insurer.claims:
        row = rows[c.claim_no]
        assert (row.claimed_fen, row.approved_fen, row.paid_fen, row.status) == (
            c.claimed_fen, c.approved_fen, c.paid_fen, c.status)  # fmt: skip
        assert row.flagged == bool(c.defect)


def test_yearly_medical_limit_reached_over_several_claims_flags_the_claim_past_it(runtime, ports, world):
    sandbox, numbers = world
    insurance.sweep_claims(ports, today=date(2026, 12, 10))
    over = next(c for c in sandbox.insurer.claims if c.defect == OVER_LIMIT)
    [view] = insurance.lookup_claims(ports, claim_no=over.claim_no)
    siblings = insurance.lookup_claims(ports, volunteer_no=over.volunteer_no)
    medical = [c for c in siblings if c.category == "MEDICAL" and c.status in ("APPROVED", "PAID")]
    assert len(medical) == 3 and medical[-1].claim_no == over.claim_no
    assert [c.allowed_fen for c in medical] == [250_000, 250_000, 0]  # 2,500 + 2,500 use the year's 5,000
    assert [c.flagged for c in medical] == [False, False, True]
    assert view.flag_codes[0] == "APPROVED_ABOVE_ALLOWED" and "500000 fen used" in view.flags[0][1]


def test_incident_outside_any_session_is_flagged_with_its_reason(runtime, ports, world):
    sandbox, _ = world
    outside = next(c for c in sandbox.insurer.claims if c.defect == OUTSIDE_SESSION)
    [view] = insurance.lookup_claims(ports, claim_no=outside.claim_no)
    assert view.flag_codes == ("NOT_IN_SESSION",) and view.allowed_fen == 0
    assert view.flags[0][1] == "incident not inside any recorded service session"
    assert view.approved_fen == outside.approved_fen  # never changed


def test_lookups_are_cached_briefly_and_the_cli_prints_claims_with_flags(runtime, ports, world):
    sandbox, numbers = world
    first = insurance.lookup_claims(ports, volunteer_no=numbers[0])
    calls = sandbox.insurer.calls["QueryClaims"]
    assert insurance.lookup_claims(ports, volunteer_no=numbers[0]) == first  # from the cache
    assert sandbox.insurer.calls["QueryClaims"] == calls
    insurance.lookup_claims(ports, volunteer_no=numbers[0], max_age=0)  # expired: asked again
    assert sandbox.insurer.calls["QueryClaims"] > calls
    out = CliRunner().invoke(insurance_cli, ["claims", "--volunteer", numbers[2]])
    assert out.exit_code == 0, out.output
    assert "FLAG NOT_IN_SESSION" in out.output  # the third volunteer carries OUTSIDE_SESSION
    out = CliRunner().invoke(insurance_cli, ["flagged"])
    assert out.exit_code == 0 and "2 flagged claim(s)" in out.output  # volunteers 1 and 3 looked up
    assert CliRunner().invoke(insurance_cli, ["claims"]).exit_code != 0  # one of the two is required


def test_daily_sweep_asks_from_the_last_sweep_date_and_checks_changed_claims(runtime, ports, world):
    sandbox, numbers = world
    insurance.sweep_claims(ports, today=date(2026, 12, 10))
    # the insurer approves a pending claim without the deductible, after the first sweep
    pending = next(c for c in sandbox.insurer.claims if c.status in ("REPORTED", "UNDER_REVIEW") and c.volunteer_no
                   in numbers[1:2] + numbers[3:])  # fmt: skip
    stale = next(c for c in sandbox.insurer.claims if c.claim_no != pending.claim_no)
    pending.status, pending.approved_fen = "APPROVED", pending.claimed_fen
    pending.status_time = datetime(2026, 12, 11, 3, tzinfo=UTC)
    stale.status_time = datetime(2026, 12, 9, 3, tzinfo=UTC)  # changed before the last sweep's date
    report = insurance.sweep_claims(ports, today=date(2026, 12, 11))
    assert report.from_date == date(2026, 12, 10)
    seen = {c.claim_no for c in sandbox.insurer.claims if c.status_time.date() >= date(2026, 12, 10)}
    assert report.claims_seen == len(seen) and stale.claim_no not in seen
    [changed] = [c for c in report.flagged if c.claim_no == pending.claim_no]
    assert "APPROVED_ABOVE_ALLOWED" in changed.flag_codes and changed.approved_fen == pending.claimed_fen


def test_claims_of_an_unknown_volunteer_are_not_covered(runtime, ports, world):
    sandbox, _ = world
    sandbox.insurer.add_claims(
        [
            type(sandbox.insurer.claims[0])(
                claim_no="CL9999999999", volunteer_no="1999999999",
                incident_time=datetime(2026, 12, 1, 12, tzinfo=UTC), category="DEATH", claimed_fen=10_000_000,
                status="PAID", status_time=datetime(2026, 12, 20, tzinfo=UTC), approved_fen=10_000_000,
                paid_fen=10_000_000,
            )
        ]
    )  # fmt: skip
    [view] = insurance.lookup_claims(ports, claim_no="CL9999999999")
    assert set(view.flag_codes) == {"NOT_IN_SESSION", "NOT_REGISTERED"}
    assert timedelta(0) == view.incident_time - datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_security_fault_stops_calls_to_the_insurer_until_resumed(runtime, ports, world):
    sandbox, numbers = world
    wrong = dataclasses.replace(
        runtime.settings, partner_passwords={**runtime.settings.partner_passwords, "BOCINS": "wrong"}
    )
    with wiring.ports(dataclasses.replace(runtime, settings=wrong)) as wrong_ports:
        report = insurance.sweep_claims(wrong_ports, today=date(2026, 12, 10))
    assert report.error.startswith("SOAP_SECURITY")
    with transaction(runtime.sessions) as s:
        [alert] = s.scalars(select(Alert).where(Alert.kind == "SOAP_SECURITY")).all()
        assert alert.partner == "BOCINS" and alert.resolved_at is None
    # the right password again (``ports``'), but the stop holds until an operator resumes
    with pytest.raises(insurance.InsurerStopped):
        insurance.lookup_claims(ports, volunteer_no=numbers[0])
    assert sandbox.insurer.calls["QueryClaims"] == 0
    assert CliRunner().invoke(insurance_cli, ["resume"]).exit_code == 0
    assert insurance.lookup_claims(ports, volunteer_no=numbers[0])
