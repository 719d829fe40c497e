"""The health-card queue end to end: card lifecycle -> HEALTH function -> queued requests
-> our zeep client over real HTTP -> the sandbox SZHC service, on SQLite and PostgreSQL.

Rules are named as in ``gateway.partners.health.service``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from adapters.health.client import HealthCardClient
from adapters.soap import RetryPolicy, SoapEndpoint
from gateway import settings as settings_mod
from gateway.cli.health import cli as health_cli
from gateway.db import transaction
from gateway.domain.lifecycle import CardEventType as E
from gateway.models import Alert, Card, CardFunction, HealthRequest, Volunteer
from gateway.partners.health import service as health
from gateway.services import cards as cs
from gateway.services import volunteers as vs
from jobs.health import sync_health
from sandbox.soap_sandbox import SoapSandbox
from tests.integration.conftest import soap_environ
from tests.services.foundation_helpers import SRC, first_card, official

pytestmark = pytest.mark.integration
_card_ids = itertools.count(1)


@pytest.fixture
def sandbox():
    with SoapSandbox(seed=5) as sb:
        yield sb


@pytest.fixture
def settings(tmp_path, db_url, sandbox):
    """Settings pointing SZHC at the sandbox; tiny in-process retry delays."""
    return settings_mod.load(
        environ=soap_environ(sandbox, "SZHC"),
        var_dir=tmp_path / "var",
        database_url=db_url,
        keys_dir=tmp_path / "var" / "keys",
        spool_dir=tmp_path / "var" / "spool",
        soap_timeout=5.0,
        retry_attempts=2,
        retry_base_delay=0.01,
    )


def client_for(sandbox, *, timeout: float = 5.0, attempts: int = 2, password: str | None = None):
    user, good = sandbox.credentials["SZHC"]
    endpoint = SoapEndpoint(
        sandbox.health_url, user, password or good, timeout=timeout, retry=RetryPolicy(attempts, 0.01)
    )
    return HealthCardClient(endpoint, sleep=lambda _s: None)


def card_id() -> str:
    return f"HQ{next(_card_ids):014d}"


def collected(runtime, **changes) -> tuple[str, int]:
    """An official volunteer whose first card was collected; (volunteer_no, card pk)."""
    with transaction(runtime.sessions) as s:
        v = official(s, **changes)
        card = first_card(v)
        cid = card_id()
        for event in (E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED):
            payload = {}
            if event in (E.PRODUCED, E.NOTIFIED):
                payload = {"card_id": cid, "masked_pan": "621785******0123", "expiry": "203111",
                           "branch_code": card.branch_code}  # fmt: skip
            cs.apply_event(s, card, event, event_time=at(), source=SRC, payload=payload)
        return v.volunteer_no, card.id


def at() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)


def event(runtime, card_pk: int, ev: E, **payload) -> Card | None:
    with transaction(runtime.sessions) as s:
        applied = cs.apply_event(s, s.get(Card, card_pk), ev, event_time=at(), source=SRC, payload=payload)
        return applied.new_card.id if applied.new_card is not None else None


def requests(runtime, volunteer_no: str | None = None) -> list[HealthRequest]:
    with transaction(runtime.sessions) as s:
        q = select(HealthRequest).order_by(HealthRequest.id)
        if volunteer_no:
            q = q.where(HealthRequest.volunteer_no == volunteer_no)
        return list(s.scalars(q))


def health_fn(runtime, card_pk: int) -> tuple[str, str | None, str | None]:
    with transaction(runtime.sessions) as s:
        f = s.scalar(
            select(CardFunction).where(CardFunction.card_pk == card_pk, CardFunction.function == "HEALTH")
        )
        return f.state, f.reason, f.partner_ref


def bank_card_id(runtime, card_pk: int) -> str:
    with transaction(runtime.sessions) as s:
        return s.get(Card, card_pk).card_id


# --------------------------------------------------------------------- lifecycle


def test_enrol_after_collection_stores_the_health_card_and_is_sent_once(runtime, ports, sandbox):
    vno, card = collected(runtime)
    not_opted, other_card = collected(runtime, opt_health=False)
    report = health.sync(ports)
    [req] = requests(runtime)
    assert (req.action, req.volunteer_no, req.status, req.reason) == ("ENROL", vno, "DONE", "COLLECTED")
    state, _, number = health_fn(runtime, card)
    assert state == "ON" and number == req.health_card_no and len(number) == 18 and number.isdigit()
    assert health_fn(runtime, other_card)[0] == "OFF" and not requests(runtime, not_opted)
    assert [s.outcome for s in report.sent] == ["DONE"] and report.pending == 0
    # query: SZHC holds it ACTIVE on the card we collected
    status = health.query_card(ports, number)
    assert (status.status, status.card_id) == ("ACTIVE", bank_card_id(runtime, card))
    # ENROL_WHEN_DUE is idempotent: nothing more is planned or sent
    assert sync_health() == ["0 request(s) still pending"]  # the scheduled job
    assert sandbox.health.calls["EnrollCard"] == 1


def test_later_opt_in_while_the_card_is_in_use_enrols(runtime, ports, sandbox):
    vno, card = collected(runtime, opt_health=False)
    assert health.sync(ports).sent == []
    with transaction(runtime.sessions) as s:
        vs.set_opt_ins(s, vno, health=True, actor="test")
    health.sync(ports)
    [req] = requests(runtime, vno)
    assert (req.action, req.status) == ("ENROL", "DONE")
    assert health_fn(runtime, card)[0] == "ON"


def test_suspend_reason_ranking_and_only_active_functions(runtime, ports, sandbox):
    opt_out, c1 = collected(runtime)
    dead, c2 = collected(runtime)
    dereg_after_opt_out, c3 = collected(runtime)
    dead_and_opt_out, c4 = collected(runtime)
    never_active, c5 = collected(runtime)
    with transaction(runtime.sessions) as s:  # opted out before the first sync: never active
        vs.set_opt_ins(s, never_active, health=False, actor="test")
    health.sync(ports)
    assert {r.volunteer_no for r in requests(runtime)} == {
        opt_out,
        dead,
        dereg_after_opt_out,
        dead_and_opt_out,
    }
    with transaction(runtime.sessions) as s:
        vs.set_opt_ins(s, opt_out, health=False, actor="test")
        vs.set_opt_ins(s, dereg_after_opt_out, health=False, actor="test")
        vs.deregister(s, dereg_after_opt_out, at=at(), actor="test")
        vs.set_opt_ins(s, dead_and_opt_out, health=False, actor="test")
    event(runtime, c2, E.LOST_REPORTED)
    event(runtime, c4, E.DAMAGED_REPORTED)
    health.sync(ports)
    suspends = {r.volunteer_no: r for r in requests(runtime) if r.action == "SUSPEND"}
    assert {n: r.reason for n, r in suspends.items()} == {
        opt_out: "OPT_OUT",
        dead: "CARD_DEAD",
        dereg_after_opt_out: "DEREGISTERED",  # REASON_RANKING: deregistration beats the earlier opt-out
        dead_and_opt_out: "CARD_DEAD",  # card death beats opt-out
    }
    assert all(r.status == "DONE" for r in suspends.values())
    for r in suspends.values():
        assert sandbox.health.cards[r.health_card_no].status == "SUSPENDED"
    assert [health_fn(runtime, c)[0] for c in (c1, c2, c3, c4, c5)] == ["OFF"] * 5
    # SUSPEND_ONLY_ACTIVE, once: nothing more, and never a suspend for the never-active one
    health.sync(ports)
    assert sandbox.health.calls["SuspendCard"] == 4 and not requests(runtime, never_active)


def test_replacements_move_the_health_card_without_a_suspend(runtime, ports, sandbox):
    renewed, old = collected(runtime)
    reissued, lost = collected(runtime)
    health.sync(ports)
    numbers = {r.volunteer_no: r.health_card_no for r in requests(runtime)}
    # renewal collected: the renewal's ENROL moves it; the old card needs no SuspendCard
    new_renewal = event(runtime, old, E.EXPIRING)
    new_id = card_id()
    for ev in (E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED):
        payload = {
            "card_id": new_id,
            "masked_pan": "621785******0999",
            "expiry": "203611",
            "branch_code": "44001",
        }
        event(runtime, new_renewal, ev, **(payload if ev in (E.PRODUCED, E.NOTIFIED) else {}))
    # reissue after a loss, collected before the next sync: the replacement is already
    # collected, so the old card's death suspends nothing
    event(runtime, lost, E.LOST_REPORTED)
    reissue_id = card_id()
    new_reissue = event(runtime, lost, E.REISSUED, new_card_id=reissue_id, new_masked_pan="621785******0456",
                        new_expiry="203108")  # fmt: skip
    event(runtime, new_reissue, E.COLLECTED)
    health.sync(ports)
    assert sandbox.health.calls["SuspendCard"] == 0
    for vno, card_pk, cid in ((renewed, new_renewal, new_id), (reissued, new_reissue, reissue_id)):
        enrol = requests(runtime, vno)[-1]
        assert (enrol.action, enrol.reason, enrol.status) == ("ENROL", "REPLACEMENT", "DONE")
        assert enrol.health_card_no == numbers[vno]  # one health card per person, for life
        assert health_fn(runtime, card_pk) == ("ON", None, numbers[vno])
        assert (sandbox.health.cards[numbers[vno]].card_id, sandbox.health.cards[numbers[vno]].status) == (
            cid,
            "ACTIVE",
        )
    assert health_fn(runtime, lost)[0] == "OFF" and health_fn(runtime, old)[0] == "OFF"


def test_old_card_death_without_a_collected_replacement_suspends_then_reissue_reactivates(
    runtime, ports, sandbox
):
    vno, lost = collected(runtime)
    health.sync(ports)
    number = requests(runtime, vno)[0].health_card_no
    event(runtime, lost, E.LOST_REPORTED)
    reissue_id = card_id()
    new = event(runtime, lost, E.REISSUED, new_card_id=reissue_id, new_masked_pan="621785******0456",
                new_expiry="203108")  # fmt: skip
    health.sync(ports)  # the replacement waits at the branch: CARD_DEAD
    assert [(r.action, r.reason) for r in requests(runtime, vno)] == [
        ("ENROL", "COLLECTED"),
        ("SUSPEND", "CARD_DEAD"),
    ]
    assert sandbox.health.cards[number].status == "SUSPENDED"
    event(runtime, new, E.COLLECTED)
    health.sync(ports)
    assert requests(runtime, vno)[-1].action == "ENROL"
    assert (sandbox.health.cards[number].card_id, sandbox.health.cards[number].status) == (
        reissue_id,
        "ACTIVE",
    )


# --------------------------------------------------------------------- faults


def test_service_down_then_up_delivers_each_request_once(runtime, ports, sandbox):
    vnos = [collected(runtime)[0] for _ in range(4)]
    sandbox.health.available = False
    report = health.sync(ports)
    # three retryable failures in a row: SZHC is down, the fourth is not even tried
    assert [s.outcome for s in report.sent] == ["RETRY"] * 3 and "looks down" in report.stopped
    assert report.pending == 4
    tried, untried = requests(runtime)[:3], requests(runtime)[3]
    for r in tried:
        assert r.status == "PENDING" and r.attempts == 1 and "HTTP 503" in r.last_error
        assert r.next_attempt_at > datetime.now(UTC)
    assert (untried.attempts, untried.last_error) == (0, None) and untried.next_attempt_at > datetime.now(UTC)
    out = CliRunner().invoke(health_cli, ["pending"])
    assert out.exit_code == 0 and "4 pending request(s)" in out.output and "HTTP 503" in out.output
    assert health.sync(ports).sent == []  # RETRY_LATER: not before the next attempt time
    sandbox.health.available = True
    report = health.sync(ports, now=datetime.now(UTC) + timedelta(hours=2))
    assert report.pending == 0 and report.stopped is None
    done = requests(runtime)
    assert [r.volunteer_no for r in done] == vnos and {r.status for r in done} == {"DONE"}
    assert all(sandbox.health.applied[r.request_id] == 1 for r in done)


def test_client_fault_is_not_retried_and_the_operator_sees_it(runtime, ports, sandbox):
    vno, card = collected(runtime)
    with transaction(runtime.sessions) as s:  # a wrong request: an id type SZHC does not know
        s.scalar(select(Volunteer).where(Volunteer.volunteer_no == vno)).id_type = "XX"
    health.sync(ports)
    [req] = requests(runtime)
    assert req.status == "CLIENT_FAULT" and "idType" in req.last_error
    health.sync(ports, now=datetime.now(UTC) + timedelta(days=1))
    assert sandbox.health.calls["EnrollCard"] == 1  # CLIENT_FAULT_TO_OPERATOR: never again by itself
    out = CliRunner().invoke(health_cli, ["pending"])
    assert "1 request(s) waiting for an operator" in out.output and req.request_id in out.output
    with transaction(runtime.sessions) as s:
        s.scalar(select(Volunteer).where(Volunteer.volunteer_no == vno)).id_type = "RIC"
    out = CliRunner().invoke(health_cli, ["retry", req.request_id, "--note", "id type corrected"])
    assert out.exit_code == 0, out.output
    health.sync(ports)
    first, again = requests(runtime)
    assert first.retried_as == again.request_id != first.request_id and again.status == "DONE"
    assert health_fn(runtime, card)[0] == "ON"


def test_h99_goes_to_an_operator_who_raises_it_under_a_new_request_id(runtime, ports, sandbox):
    collected(runtime)
    sandbox.health.inject_h99(1)
    health.sync(ports)
    [failed] = requests(runtime)
    assert (failed.status, failed.reason_code) == ("FAILED", "H99")
    with transaction(runtime.sessions) as s:
        assert [r.request_id for r in health.needing_operator(s)] == [failed.request_id]
        health.retry(s, failed.request_id, actor="op", note="SZHC says try again")
    health.sync(ports)
    assert requests(runtime)[-1].status == "DONE"


def test_slow_answer_past_the_timeout_is_retried_with_the_same_request_id(runtime, ports, sandbox):
    collected(runtime)
    sandbox.health.inject_delays(1, 1.0)  # applied, then answered after our 0.3 s timeout
    slow = client_for(sandbox, timeout=0.3, attempts=1)
    try:
        health.sync(ports.with_client(health.PARTNER, slow))
        [req] = requests(runtime)
        assert req.status == "PENDING" and "timeout" in req.last_error
        health.sync(ports.with_client(health.PARTNER, slow), now=datetime.now(UTC) + timedelta(hours=1))
    finally:
        slow.close()
    [req] = requests(runtime)
    assert req.status == "DONE" and req.attempts == 2
    assert sandbox.health.calls["EnrollCard"] == 2 and sandbox.health.applied[req.request_id] == 1


def test_security_fault_stops_the_queue_and_raises_an_alert(runtime, ports, sandbox):
    collected(runtime)
    collected(runtime)
    bad = client_for(sandbox, password="not-the-password")
    try:
        report = health.sync(ports.with_client(health.PARTNER, bad))
    finally:
        bad.close()
    assert report.stopped and [s.outcome for s in report.sent] == ["STOPPED"]
    assert [r.status for r in requests(runtime)] == ["PENDING", "PENDING"]  # the queue stays intact
    with transaction(runtime.sessions) as s:
        [alert] = s.scalars(select(Alert).where(Alert.kind == "SOAP_SECURITY")).all()
        assert alert.partner == "SZHC" and "FailedAuthentication" in alert.message
    assert health.sync(ports).stopped and sandbox.health.calls["EnrollCard"] == 0  # stopped until resumed
    assert "CALLS STOPPED" in CliRunner().invoke(health_cli, ["pending"]).output
    assert CliRunner().invoke(health_cli, ["resume"]).exit_code == 0
    report = health.sync(ports)
    assert report.stopped is None and [r.status for r in requests(runtime)] == ["DONE", "DONE"]


def test_unsafe_answer_goes_to_an_operator_who_sends_the_same_request_id_again(runtime, ports, sandbox):
    from tests.integration.test_soap_faults import HOSTILE, Evil

    vno, card = collected(runtime)
    with Evil(200, HOSTILE["internal entity"].encode()) as evil:
        user, password = sandbox.credentials["SZHC"]
        hostile = HealthCardClient(SoapEndpoint(evil.url, user, password, timeout=2), sleep=lambda _s: None)
        try:
            health.sync(ports.with_client(health.PARTNER, hostile))
        finally:
            hostile.close()
        assert evil.hits == 1  # refused, not retried
    [req] = requests(runtime)
    assert req.status == "ERROR" and req.last_error.startswith("SOAP_UNSAFE_XML")
    assert health_fn(runtime, card) == ("ON_DUE", None, None)  # nothing taken from that answer
    with transaction(runtime.sessions) as s:
        assert (
            health.retry(s, req.request_id, actor="op", note="partner fixed its proxy").request_id
            == req.request_id
        )
    health.sync(ports)
    [req] = requests(runtime)
    assert req.status == "DONE" and sandbox.health.applied[req.request_id] == 1


# --------------------------------------------------------------------- issue 19


def _enrolled(runtime, ports) -> tuple[str, int, str]:
    vno, card = collected(runtime)
    health.sync(ports)
    return vno, card, health_fn(runtime, card)[2]


def test_finding_2_query_card_honours_the_security_stop_and_raises_its_alert(runtime, ports, sandbox):
    from adapters.soap import SecurityFault

    _, _, number = _enrolled(runtime, ports)
    bad = client_for(sandbox, password="not-the-password")
    try:
        with pytest.raises(SecurityFault):
            health.query_card(ports.with_client(health.PARTNER, bad), number)
    finally:
        bad.close()
    with transaction(runtime.sessions) as s:
        [alert] = s.scalars(select(Alert).where(Alert.kind == "SOAP_SECURITY")).all()
        assert alert.partner == "SZHC" and alert.resolved_at is None
    queried = sandbox.health.calls["QueryCard"]
    # the stop holds for every call, an operator's queries included: nothing reaches SZHC
    with pytest.raises(health.HealthStopped, match="stopped"):
        health.query_card(ports, number)
    out = CliRunner().invoke(health_cli, ["query", number])
    assert out.exit_code == 1 and "stopped" in out.output
    assert sandbox.health.calls["QueryCard"] == queried
    assert CliRunner().invoke(health_cli, ["resume"]).exit_code == 0
    assert health.query_card(ports, number).status == "ACTIVE"


def test_finding_6_reconciliation_alerts_each_mismatch_with_querycard(runtime, ports, sandbox):
    from gateway.partners.health import reconcile as rec
    from jobs.health import reconcile_health
    from jobs.schedule import entries

    (weekly,) = [e for e in entries() if e.func == "jobs.health.reconcile_health"]
    assert weekly.cron == "0 5 * * 0"
    first, _, number = _enrolled(runtime, ports)
    second, _, _ = _enrolled(runtime, ports)
    assert reconcile_health() == ["health reconcile: 2 checked, 2 matched, 0 mismatched, 0 not answered"]
    sandbox.health.cards[number].status = "SUSPENDED"  # SZHC changed it on its side
    lines = reconcile_health(all_cards=True)
    assert lines[0] == "health reconcile: 2 checked, 1 matched, 1 mismatched, 0 not answered"
    assert lines[1] == f"  mismatch {first}: SZHC says SUSPENDED, our requests say ACTIVE"
    reconcile_health(all_cards=True)  # still one open alert for the volunteer
    with transaction(runtime.sessions) as s:
        [alert] = s.scalars(select(Alert).where(Alert.kind == rec.MISMATCH_ALERT)).all()
        assert alert.subject == f"SZHC:{first}" and second not in alert.message
    out = CliRunner().invoke(health_cli, ["reconcile", "--all"])
    assert out.exit_code == 1 and "1 mismatched" in out.output
    sandbox.health.cards[number].status = "ACTIVE"
    assert rec.reconcile(ports, sample=1, seed=3).checked == 1  # a sample
    reconcile_health(all_cards=True)
    with transaction(runtime.sessions) as s:
        assert s.scalar(select(Alert).where(Alert.kind == rec.MISMATCH_ALERT)).resolved_at is not None
    # the security stop holds for the reconciliation too
    with transaction(runtime.sessions) as s:
        health.raise_alert(s, health.SECURITY_ALERT, "SZHC", "test stop", subject=health.SECURITY_SUBJECT)
    queried = sandbox.health.calls["QueryCard"]
    report = rec.reconcile(ports, sample=None)
    assert report.stopped and report.checked == 0 and sandbox.health.calls["QueryCard"] == queried


def _refused(sandbox) -> int:
    """Requests the sandbox refused for their WS-Security header."""
    return sum(sandbox.health.refused.values())


def test_finding_2_an_operators_repeated_queries_with_bad_credentials_reach_szhc_once(
    runtime, ports, sandbox
):
    from adapters.soap import SecurityFault

    _, _, number = _enrolled(runtime, ports)
    queried = sandbox.health.calls["QueryCard"]
    bad = client_for(sandbox, password="not-the-password")
    try:
        with pytest.raises(SecurityFault):
            health.query_card(ports.with_client(health.PARTNER, bad), number)
        for _ in range(3):  # the operator tries again: each refused here, none sent
            with pytest.raises(health.HealthStopped):
                health.query_card(ports.with_client(health.PARTNER, bad), number)
    finally:
        bad.close()
    assert _refused(sandbox) == 1 and sandbox.health.calls["QueryCard"] == queried
    with transaction(runtime.sessions) as s:
        assert health.stopped_by(s) is not None


class _Gate:
    """An HTTP front of the sandbox SZHC that answers 403 while ``closed`` (a partner's
    proxy refusing our certificate or address), counting every request it receives."""

    def __init__(self, service) -> None:
        self.service, self.closed, self.hits = service, True, 0

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Response

        self.hits += 1
        if self.closed:
            return Response("forbidden\n", status=403, mimetype="text/plain")(environ, start_response)
        return self.service(environ, start_response)


def test_finding_2_http_403_on_query_card_opens_the_stop_and_nothing_more_is_sent(runtime, ports, sandbox):
    from adapters.soap import SecurityFault
    from sandbox.soap_server import SoapServer

    _, _, number = _enrolled(runtime, ports)
    gate = _Gate(sandbox.health)
    with SoapServer({sandbox.health.path: gate}) as front:
        user, password = sandbox.credentials["SZHC"]
        endpoint = SoapEndpoint(front.url(), user, password, timeout=5.0, retry=RetryPolicy(2, 0.01))
        client = HealthCardClient(endpoint, sleep=lambda _s: None)
        try:
            with pytest.raises(SecurityFault):
                health.query_card(ports.with_client(health.PARTNER, client), number)
            assert gate.hits == 1  # not retried
            with transaction(runtime.sessions) as s:
                [alert] = s.scalars(select(Alert).where(Alert.kind == health.SECURITY_ALERT)).all()
                assert alert.partner == "SZHC" and alert.resolved_at is None
            gate.closed = False  # even once the proxy lets us through, nothing goes until resumed
            with pytest.raises(health.HealthStopped):
                health.query_card(ports.with_client(health.PARTNER, client), number)
            assert gate.hits == 1
            with transaction(runtime.sessions) as s:
                health.resume(s, actor="op")
            assert (
                health.query_card(ports.with_client(health.PARTNER, client), number).status == "ACTIVE"
                and gate.hits == 2
            )
        finally:
            client.close()


def test_finding_6_a_security_fault_ends_the_reconciliation_after_one_call(runtime, ports, sandbox):
    from gateway.partners.health import reconcile as rec

    for _ in range(3):
        _enrolled(runtime, ports)
    queried = sandbox.health.calls["QueryCard"]
    bad = client_for(sandbox, password="not-the-password")
    try:
        report = rec.reconcile(ports.with_client(health.PARTNER, bad), sample=None)
    finally:
        bad.close()
    assert report.stopped and report.checked == 0 and not report.mismatches
    assert _refused(sandbox) == 1 and sandbox.health.calls["QueryCard"] == queried
    with transaction(runtime.sessions) as s:
        assert health.stopped_by(s) is not None
        assert not s.scalars(select(Alert).where(Alert.kind == rec.MISMATCH_ALERT)).all()
    # the next run (the weekly job, or an operator's) sends nothing until resumed
    out = CliRunner().invoke(health_cli, ["reconcile", "--all"])
    assert out.exit_code == 1 and "stopped" in out.output
    assert _refused(sandbox) == 1 and sandbox.health.calls["QueryCard"] == queried


def test_finding_6_a_number_szhc_no_longer_knows_is_a_mismatch(runtime, ports, sandbox):
    from gateway.partners.health import reconcile as rec

    vno, _, number = _enrolled(runtime, ports)
    del sandbox.health.cards[number]  # SZHC lost or merged the record on its side
    out = CliRunner().invoke(health_cli, ["reconcile", "--all"])
    assert out.exit_code == 1
    assert "1 checked, 0 matched, 1 mismatched, 0 not answered" in out.output
    assert f"mismatch {vno}: QueryCard answers a Client fault" in out.output
    with transaction(runtime.sessions) as s:
        [alert] = s.scalars(select(Alert).where(Alert.kind == rec.MISMATCH_ALERT)).all()
        assert alert.subject == f"SZHC:{vno}" and alert.resolved_at is None


def test_finding_6_a_request_sent_and_not_yet_answered_is_compared_next_time(runtime, ports, sandbox):
    from gateway.partners.health import reconcile as rec

    vno, card, number = _enrolled(runtime, ports)
    with transaction(runtime.sessions) as s:
        vs.set_opt_ins(s, vno, health=False, actor="test")
    # SZHC applies the SuspendCard, its answer comes too late: SUSPENDED there, PENDING here
    sandbox.health.inject_delays(1, 1.0)
    impatient = client_for(sandbox, timeout=0.3, attempts=1)
    try:
        health.sync(ports.with_client(health.PARTNER, impatient))
    finally:
        impatient.close()
    [_, suspend] = requests(runtime, vno)
    assert (suspend.action, suspend.status, suspend.attempts) == ("SUSPEND", "PENDING", 1)
    assert sandbox.health.cards[number].status == "SUSPENDED"
    report = rec.reconcile(ports, sample=None)
    assert report.lines() == [
        "health reconcile: 0 checked, 0 matched, 0 mismatched, 0 not answered, 1 in flight"
    ]
    with transaction(runtime.sessions) as s:
        assert not s.scalars(select(Alert).where(Alert.kind == rec.MISMATCH_ALERT)).all()
    with transaction(runtime.sessions) as s:  # the retry is due now, not after the backoff
        s.get(HealthRequest, suspend.id).next_attempt_at = None
    health.sync(ports)  # answered (the first answer, once) and compared at the next run
    assert requests(runtime, vno)[1].status == "DONE"
    assert rec.reconcile(ports, sample=None).lines() == [
        "health reconcile: 1 checked, 1 matched, 0 mismatched, 0 not answered"
    ]
