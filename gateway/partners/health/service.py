"""The Health Commission's health-card function (health.md), in one place.

Design: the lifecycle never calls SZHC. The cards and volunteers services only move a
card's HEALTH function to ``ON_DUE`` ("must be active at SZHC": collection of an opted-in
card, a later opt-in, a replacement's collection) or ``OFF_DUE`` ("must not be": opt-out,
card death, deregistration). :func:`plan_requests` turns those states into queued
requests; :func:`sync` sends what is due and settles the answers. SZHC keeps one health
card per *person*, so the plan works per volunteer, from what SZHC holds according to our
own answered requests (the last DONE request says ACTIVE on card X, or SUSPENDED).

Rules (named as the tests name them):

- ``ENROL_WHEN_DUE``: a volunteer with a HEALTH function ``ON_DUE`` (registered, opted in)
  gets one ENROL for that card, unless SZHC already holds the health card ACTIVE on it
  (then the function is simply ON). A replacement's ENROL moves the health card, so the
  dead card it replaces needs no SuspendCard (``REPLACEMENT_MOVES``).
- ``SUSPEND_ONLY_ACTIVE``: ``OFF_DUE`` functions get one SUSPEND only when SZHC holds the
  health card ACTIVE and no card of the volunteer wants it on; otherwise they are OFF.
- ``REASON_RANKING``: the reason sent is the first of DEREGISTERED, CARD_DEAD, OPT_OUT
  that applies (from the facts: registration, card state, opt-in), whatever order the
  events came in.
- ``ONE_AT_A_TIME``: at most one open request per volunteer; a request that reached SZHC
  (attempts > 0) is settled before anything else is planned for that volunteer, and one
  not yet sent that is no longer wanted is cancelled.
- ``STABLE_REQUEST_ID``: a request keeps its ``requestId`` across every retry.
- ``RETRY_LATER``: Server faults, HTTP 5xx and timeouts leave the request PENDING with a
  backed-off ``next_attempt_at`` and the reason in ``last_error``.
- ``CLIENT_FAULT_TO_OPERATOR`` / ``FAILED_TO_OPERATOR``: a ``Client`` fault or a FAILED
  answer (H01, H03, H99) closes the request for an operator; nothing repeats it until an
  operator raises it again (:func:`retry`, a new ``requestId``).
- ``SECURITY_STOPS``: a WS-Security fault (or HTTP 401/403) stops all calls to SZHC and
  raises an alert; the queue stays as it is until an operator resumes (:func:`resume`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.health.client import EnrollResult, HealthCardPartner, HealthCardStatus, SuspendResult
from adapters.soap import ClientFault, RetryableError, SecurityFault, SoapError
from gateway.db import transaction
from gateway.domain.errors import CodedError, Conflict, NotFound, Unavailable
from gateway.domain.functions import Function, FunctionState
from gateway.models import Alert, CardFunction, Volunteer
from gateway.models.health import HealthAction, HealthRequest, HealthStatus
from gateway.partners.health import ID
from gateway.partners.health.planning import (
    BACKOFF_BASE,
    backoff,
    close_request,
    new_request,
    plan_requests,
    plan_volunteer,
    requests_of,
    settle_enrol,
    settle_suspend,
)
from gateway.services.alerts import raise_alert
from gateway.services.ports import Ports
from gateway.timeutil import utcnow

__all__ = ["backoff", "plan_requests", "plan_volunteer", "settle_enrol", "settle_suspend"]

log = logging.getLogger("svcard.health")

PARTNER = ID
A, S = HealthAction, HealthStatus
SECURITY_ALERT = "SOAP_SECURITY"
SECURITY_SUBJECT = "SZHC: calls stopped"
#: A claimed request is not picked up by another worker for this long (a crashed
#: worker's claim expires and the request is sent again, with the same id).
CLAIM_LEASE = timedelta(minutes=30)
#: Requests claimed per round, and rounds per sync (a night's backlog drains in one run).
BATCH = 100
MAX_ROUNDS = 50
#: After this many retryable failures in a row SZHC is taken to be down: the rest of the
#: batch waits for the next run instead of each spending its timeouts.
DOWN_AFTER = 3


# --------------------------------------------------------------------- sync


@dataclass
class Sent:
    request_id: str
    action: str
    card_id: str
    outcome: str  # DONE | FAILED | CLIENT_FAULT | ERROR | RETRY | STOPPED
    detail: str = ""


@dataclass
class SyncReport:
    planned: list[str] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    pending: int = 0
    stopped: str | None = None  # why nothing (more) was sent

    def lines(self) -> list[str]:
        out = [f"planned {r}" for r in self.planned]
        out += [
            f"{s.outcome:<12} {s.action:<7} {s.request_id} card {s.card_id} {s.detail}".rstrip()
            for s in self.sent
        ]
        if self.stopped:
            out.append(f"STOPPED: {self.stopped}")
        out.append(f"{self.pending} request(s) still pending")
        return out


@dataclass(frozen=True)
class _Call:
    pk: int
    request_id: str
    action: str
    card_id: str
    volunteer_no: str
    reason: str
    health_card_no: str | None
    # id_type, id_number, name (ENROL only): PII, kept in memory only and out of any repr
    identity: tuple[str, str, str] | None = field(default=None, repr=False)


def stopped_by(session: Session) -> Alert | None:
    """The open security alert that stops calls to SZHC, if any."""
    return session.scalar(
        select(Alert)
        .where(Alert.kind == SECURITY_ALERT, Alert.partner == PARTNER, Alert.resolved_at.is_(None))
        .order_by(Alert.id)
        .limit(1)
    )


def _due_filter(now: datetime):
    return (HealthRequest.status == S.PENDING) & (
        HealthRequest.next_attempt_at.is_(None) | (HealthRequest.next_attempt_at <= now)
    )


def _due(session: Session, now: datetime) -> bool:
    return session.scalar(select(HealthRequest.id).where(_due_filter(now)).limit(1)) is not None


def _claim(session: Session, now: datetime, limit: int) -> list[_Call]:
    """The due requests, oldest first, marked as attempted (with a lease)."""
    query = (
        select(HealthRequest)
        .where(_due_filter(now))
        .order_by(HealthRequest.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    calls = []
    for req in session.scalars(query):
        identity = None
        if req.action == A.ENROL:
            v = session.get(Volunteer, req.volunteer_id)
            identity = (v.id_type, v.id_number, v.name)
        req.attempts += 1
        req.first_sent_at = req.first_sent_at or now
        req.last_sent_at = now
        req.next_attempt_at = now + CLAIM_LEASE
        calls.append(
            _Call(req.id, req.request_id, req.action, req.card_id, req.volunteer_no, req.reason,
                  req.health_card_no, identity)
        )  # fmt: skip
    return calls


def _send(client: HealthCardPartner, call: _Call) -> EnrollResult | SuspendResult:
    if call.action == A.ENROL:
        id_type, id_number, name = call.identity  # type: ignore[misc]
        return client.enroll_card(call.request_id, call.volunteer_no, id_type, id_number, name, call.card_id)
    return client.suspend_card(call.request_id, call.health_card_no or "", call.reason)


def sync(
    ports: Ports,
    *,
    now: datetime | None = None,
    limit: int = BATCH,
    backoff_base: float = BACKOFF_BASE,
    actor: str = "system",
) -> SyncReport:
    """Plan, then send every request due now (each with its stable requestId), settle the
    answers, and plan again for the follow-ups. Safe to run twice and from many workers.
    The client is ``ports.client(SZHC)``, built only when a request is due."""
    report = SyncReport()
    client: HealthCardPartner | None = None
    for _round in range(MAX_ROUNDS):
        at = now or utcnow()
        with transaction(ports.sessions) as session:
            report.planned += [r.request_id for r in plan_requests(session, actor=actor)]
            alert = stopped_by(session)
            if alert is not None:
                report.stopped = f"security fault: {alert.message} (resolve with `svcard health resume`)"
                break
            if client is None and _due(session, at):
                client = ports.client(PARTNER)  # a configuration error leaves nothing claimed
            calls = _claim(session, at, limit) if client is not None else []
        if not calls or not _deliver(ports, client, calls, at, backoff_base, report):
            break
    with transaction(ports.sessions) as session:
        report.pending = len(pending(session))
    return report


def _deliver(
    ports: Ports, client: HealthCardPartner, calls: list[_Call], at: datetime, base: float, report: SyncReport
) -> bool:
    """Send the claimed calls; False when the run must stop (security fault, SZHC down)."""
    failures_in_a_row = 0
    for n, call in enumerate(calls):
        if failures_in_a_row >= DOWN_AFTER:
            _release(ports, calls[n:], at + backoff(1, base))
            report.stopped = f"SZHC looks down ({DOWN_AFTER} retryable failures in a row); the rest waits"
            return False
        try:
            answer = _send(client, call)
        except SecurityFault as exc:
            with transaction(ports.sessions) as session:
                req = session.get(HealthRequest, call.pk)
                req.next_attempt_at, req.last_error = None, f"{exc.code}: {exc}"[:300]
                raise_alert(session, SECURITY_ALERT, PARTNER, f"{exc}"[:500], subject=SECURITY_SUBJECT)
            _release(ports, calls[n + 1 :], None)  # the queue stays intact: due again once resumed
            report.sent.append(Sent(call.request_id, call.action, call.card_id, "STOPPED", str(exc)))
            report.stopped = f"security fault: {exc}"
            return False
        except RetryableError as exc:
            outcome, detail = "RETRY", str(exc)
        except ClientFault as exc:
            outcome, detail = S.CLIENT_FAULT, str(exc)
        except SoapError as exc:  # unsafe XML, not the agreed SOAP: outcome unknown
            outcome, detail = S.ERROR, f"{exc.code}: {exc}"
        else:
            outcome, detail = None, ""
        with transaction(ports.sessions) as session:
            req = session.get(HealthRequest, call.pk)
            if outcome is None:
                if call.action == A.ENROL:
                    settle_enrol(session, req, answer)  # type: ignore[arg-type]
                else:
                    settle_suspend(session, req, answer)  # type: ignore[arg-type]
                outcome = req.status
                detail = " ".join(
                    x for x in (req.result or "", req.reason_code or "", req.health_card_no or "") if x
                )
            elif outcome == "RETRY":
                req.last_error = detail[:300]
                req.next_attempt_at = at + backoff(req.attempts, base)
                log.warning(
                    "SZHC %s %s: %s; next attempt %s",
                    call.action,
                    call.request_id,
                    detail,
                    req.next_attempt_at,
                )
            else:
                close_request(req, outcome, detail)
                log.error("SZHC %s %s: %s (operator)", call.action, call.request_id, detail)
        report.sent.append(Sent(call.request_id, call.action, call.card_id, outcome, detail))
        failures_in_a_row = failures_in_a_row + 1 if outcome == "RETRY" else 0
    return True


def _release(ports, calls: list[_Call], next_attempt: datetime | None) -> None:
    """Give back requests claimed but never sent: not an attempt."""
    if not calls:
        return
    with transaction(ports.sessions) as session:
        for call in calls:
            req = session.get(HealthRequest, call.pk)
            req.attempts -= 1
            req.next_attempt_at = next_attempt
            if req.attempts == 0:
                req.first_sent_at = req.last_sent_at = None


# --------------------------------------------------------------------- operators


def pending(session: Session) -> list[HealthRequest]:
    """Open requests (PENDING, with the last error and next attempt), oldest first."""
    return list(
        session.scalars(
            select(HealthRequest).where(HealthRequest.status == S.PENDING).order_by(HealthRequest.id)
        )
    )


def history(session: Session, volunteer_id: int) -> list[HealthRequest]:
    """Every request of one volunteer, oldest first (what SZHC was asked, and answered)."""
    return requests_of(session, volunteer_id)


def needing_operator(session: Session) -> list[HealthRequest]:
    """FAILED, CLIENT_FAULT and ERROR requests not yet raised again."""
    return list(
        session.scalars(
            select(HealthRequest)
            .where(HealthRequest.status.in_(sorted(S.NEEDS_OPERATOR)), HealthRequest.retried_as.is_(None))
            .order_by(HealthRequest.id)
        )
    )


def waiting_functions(session: Session) -> list[CardFunction]:
    """HEALTH functions still due at SZHC (ON_DUE / OFF_DUE), whatever their requests."""
    return list(
        session.scalars(
            select(CardFunction)
            .where(
                CardFunction.function == Function.HEALTH,
                CardFunction.state.in_([FunctionState.ON_DUE, FunctionState.OFF_DUE]),
            )
            .order_by(CardFunction.id)
        )
    )


def retry(session: Session, request_id: str, *, actor: str, note: str) -> HealthRequest:
    """An operator raises a FAILED / CLIENT_FAULT request again under a new requestId
    (health.md: H99 "may raise the request again under a new requestId"). An ERROR request
    (outcome unknown: the answer was refused) goes again with its own requestId, so SZHC
    answers it at most once."""
    req = session.scalar(select(HealthRequest).where(HealthRequest.request_id == request_id))
    if req is None:
        raise NotFound("HEALTH_REQUEST_NOT_FOUND", "no such health-card request", "request_id")
    if req.status not in S.NEEDS_OPERATOR or req.retried_as:
        raise Conflict(
            "NOT_FAILED", "only a FAILED, CLIENT_FAULT or ERROR request can be raised again", "request_id"
        )
    open_one = session.scalar(
        select(HealthRequest.request_id).where(
            HealthRequest.volunteer_id == req.volunteer_id, HealthRequest.status == S.PENDING
        )
    )
    if open_one is not None:
        raise Conflict("OPEN_REQUEST", f"request {open_one} of this volunteer is still open", "request_id")
    stamp = f"raised again by {actor}: {note}"
    if req.status == S.ERROR:
        req.status, req.closed_at, req.next_attempt_at = S.PENDING, None, None
        req.note = f"{req.note or ''} | {stamp}".strip(" |")[:300]
        return req
    v = session.get(Volunteer, req.volunteer_id)
    new = new_request(session, v, req.card, req.action, req.reason, req.health_card_no, actor)
    new.note = f"raised again from {req.request_id} by {actor}: {note}"[:300]
    req.retried_as = new.request_id
    req.note = f"{req.note or ''} | {stamp} as {new.request_id}".strip(" |")[:300]
    return new


def resume(session: Session, *, actor: str) -> int:
    """Resolve the security stop (after the credentials or certificate were fixed); the
    number of alerts resolved. The queue is sent at the next sync."""
    n = 0
    for alert in session.scalars(
        select(Alert).where(
            Alert.kind == SECURITY_ALERT, Alert.partner == PARTNER, Alert.resolved_at.is_(None)
        )
    ):
        alert.resolved_at = utcnow()
        alert.message = f"{alert.message} [resumed by {actor}]"
        n += 1
    return n


class HealthStopped(CodedError, Unavailable):
    """Calls to SZHC are stopped by an open security alert (health.md "Faults")."""

    CODE = "HEALTH_UNAVAILABLE"


def query_card(ports: Ports, health_card_no: str) -> HealthCardStatus:
    """Ask SZHC where a health card is (operators, reconciliation).

    SECURITY_STOPS holds here too: with the stop open nothing is sent (an operator's
    repeated queries must not lock the account), and a security fault of this call opens
    the stop and raises its alert, as a sync would."""
    with transaction(ports.sessions) as session:
        alert = stopped_by(session)
        if alert is not None:
            raise HealthStopped(f"calls to {PARTNER} stopped: {alert.message} (`svcard health resume`)")
    try:
        return ports.client(PARTNER).query_card(health_card_no)
    except SecurityFault as exc:
        with transaction(ports.sessions) as session:
            raise_alert(session, SECURITY_ALERT, PARTNER, f"{exc}"[:500], subject=SECURITY_SUBJECT)
        raise
