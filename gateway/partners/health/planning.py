"""Planning the Health Commission's requests (health.md): from the HEALTH functions'
states and what SZHC holds by our own answered requests, the ENROL and SUSPEND requests
to queue, and how an answer settles one. The rules are named in
``gateway.partners.health.service``'s docstring, as the tests name them; this module
makes no call to SZHC."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from adapters.health.client import EnrollResult, SuspendResult
from gateway.domain import ids
from gateway.domain.functions import Function, FunctionState, OffReason
from gateway.domain.lifecycle import is_dead
from gateway.models import Card, CardFunction, Volunteer
from gateway.models.health import HealthAction, HealthRequest, HealthStatus
from gateway.models.volunteers import VolunteerStatus
from gateway.timeutil import utcnow

log = logging.getLogger("svcard.health")

A, S = HealthAction, HealthStatus
#: health.md's order when several reasons apply at once.
REASON_ORDER = (OffReason.DEREGISTERED, OffReason.CARD_DEAD, OffReason.OPT_OUT)
#: Queue backoff after a retryable failure: BASE * 2**(attempts-1), capped (seconds).
BACKOFF_BASE = 60.0
BACKOFF_CAP = 3600.0
PLAN_LOCK_KEY = 0x53_5A_48_43  # "SZHC": PostgreSQL advisory lock serialising plan_requests

# --------------------------------------------------------------------- planning


def requests_of(session: Session, volunteer_id: int) -> list[HealthRequest]:
    return list(
        session.scalars(
            select(HealthRequest).where(HealthRequest.volunteer_id == volunteer_id).order_by(HealthRequest.id)
        )
    )


def _functions(session: Session, volunteer_id: int) -> list[CardFunction]:
    return list(
        session.scalars(
            select(CardFunction)
            .join(Card, Card.id == CardFunction.card_pk)
            .where(Card.volunteer_id == volunteer_id, CardFunction.function == Function.HEALTH)
            .order_by(Card.id)
        )
    )


def szhc_holds(history: Iterable[HealthRequest]) -> tuple[int, str] | None:
    """(card pk, health card number) if SZHC holds the card ACTIVE, from our DONE requests."""
    active: tuple[int, str] | None = None
    for r in history:
        if r.status != S.DONE:
            continue
        if r.action == A.ENROL and r.health_card_no:
            active = (r.card_pk, r.health_card_no)
        elif r.action == A.SUSPEND:
            active = None
    return active


def health_card_number(history: Iterable[HealthRequest]) -> str | None:
    """The person's health card number, once SZHC gave one (it is theirs for life)."""
    number = None
    for r in history:
        if r.action == A.ENROL and r.status == S.DONE and r.health_card_no:
            number = r.health_card_no
    return number


def suspend_reason(volunteer: Volunteer, off_due: Iterable[CardFunction]) -> str:
    """REASON_RANKING: the first of DEREGISTERED, CARD_DEAD, OPT_OUT that applies."""
    off_due = list(off_due)
    facts: set[str] = set()
    if volunteer.status == VolunteerStatus.DEREGISTERED or volunteer.deregistered_at is not None:
        facts.add(OffReason.DEREGISTERED)
    if any(is_dead(f.card.state) for f in off_due):
        facts.add(OffReason.CARD_DEAD)
    if not volunteer.opt_health:
        facts.add(OffReason.OPT_OUT)
    facts |= {f.reason for f in off_due if f.reason in REASON_ORDER}
    for reason in REASON_ORDER:
        if reason in facts:
            return str(reason)
    log.warning("volunteer %s: HEALTH off without a known reason; sending OPT_OUT", volunteer.number)
    return str(OffReason.OPT_OUT)


def _enrol_cause(card: Card, f: CardFunction) -> str:
    """Why the ENROL, a label for operators: a replacement's collection, a later opt-in (the
    function became due well after the card was collected), or the collection itself."""
    if card.replaces_pk is not None:
        return "REPLACEMENT"
    collected = [e.applied_at for e in card.events if e.event == "COLLECTED"]
    if collected and f.changed_at > collected[-1] + timedelta(seconds=2):
        return "OPT_IN"
    return "COLLECTED"


def new_request(
    session: Session, v: Volunteer, card: Card, action: str, reason: str, number: str | None, actor: str
) -> HealthRequest:
    req = HealthRequest(
        request_id=ids.new_id("HE" if action == A.ENROL else "HS"),
        action=action,
        card_pk=card.id,
        card_id=card.card_id,
        volunteer_id=v.id,
        volunteer_no=v.volunteer_no,
        reason=reason,
        health_card_no=number,
        status=S.PENDING,
        attempts=0,
        created_by=actor[:64],
    )
    session.add(req)
    session.flush()
    log.info("SZHC %s %s queued for card %s (%s)", action, req.request_id, card.card_id, reason)
    return req


def _cancel(r: HealthRequest, why: str) -> None:
    r.status, r.closed_at, r.note = S.CANCELLED, utcnow(), why[:300]


def plan_volunteer(session: Session, v: Volunteer, *, actor: str = "system") -> HealthRequest | None:
    """Bring one volunteer's HEALTH functions and their requests in step; the new request."""
    history = requests_of(session, v.id)
    if any(r.status == S.PENDING and r.attempts > 0 for r in history):
        return None  # ONE_AT_A_TIME: settle what SZHC may already have seen first
    functions = [f for f in _functions(session, v.id) if f.card.card_id]
    on_due = [f for f in functions if f.state == FunctionState.ON_DUE]
    on = [f for f in functions if f.state == FunctionState.ON]
    off_due = [f for f in functions if f.state == FunctionState.OFF_DUE]
    wanted = [f for f in on_due if v.registered and v.opt_health]
    holds = szhc_holds(history)
    open_ = [r for r in history if r.status == S.PENDING]
    decided = [r for r in history if r.status != S.CANCELLED]
    last = decided[-1] if decided else None

    if wanted:
        target = wanted[-1]  # the newest card (a replacement over the card it replaces)
        for r in open_:
            if not (r.action == A.ENROL and r.card_pk == target.card_pk):
                _cancel(r, "no longer wanted before it was sent")
        if holds is not None and holds[0] == target.card_pk:
            target.partner_ref = holds[1]
            target.set_state(FunctionState.ON)
            for f in off_due:  # REPLACEMENT_MOVES: the health card left the old card
                f.set_state(FunctionState.OFF, f.reason or OffReason.REPLACED)
            return None
        if any(r.status == S.PENDING for r in open_ if r.card_pk == target.card_pk and r.action == A.ENROL):
            return None
        if last is not None and last.status in S.NEEDS_OPERATOR and last.action == A.ENROL:
            if last.card_pk == target.card_pk:
                return None  # an operator decides (retry raises it again)
        return new_request(session, v, target.card, A.ENROL, _enrol_cause(target.card, target), None, actor)

    for r in open_:
        if r.action == A.ENROL:
            _cancel(r, "no longer wanted before it was sent")
    if not off_due:
        return None
    if holds is None or on:
        # SUSPEND_ONLY_ACTIVE: never active (or it lives on a card still on): nothing to say.
        for r in open_:
            if r.action == A.SUSPEND and r.status == S.PENDING:
                _cancel(r, "the health card is not active: nothing to suspend")
        for f in off_due:
            f.set_state(FunctionState.OFF, f.reason)
        return None
    reason = suspend_reason(v, off_due)
    pending = [r for r in open_ if r.action == A.SUSPEND and r.status == S.PENDING]
    if pending:
        pending[-1].reason = reason  # not yet sent (ONE_AT_A_TIME): the best reason now
        return None
    if last is not None and last.status in S.NEEDS_OPERATOR and last.action == A.SUSPEND:
        return None
    card = next((f.card for f in off_due if f.card_pk == holds[0]), off_due[0].card)
    return new_request(session, v, card, A.SUSPEND, reason, holds[1], actor)


def plan_requests(session: Session, *, actor: str = "system") -> list[HealthRequest]:
    """Create the requests due now for every volunteer with a HEALTH function ON_DUE or
    OFF_DUE; idempotent (a second call creates nothing). Returns the new requests."""
    if session.get_bind().dialect.name == "postgresql":
        # Workers plan one at a time (the unique index would refuse a second open request
        # anyway; the lock spares the losing worker its rollback). Released at commit.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PLAN_LOCK_KEY})
    volunteer_ids = session.scalars(
        select(Card.volunteer_id)
        .join(CardFunction, CardFunction.card_pk == Card.id)
        .where(
            CardFunction.function == Function.HEALTH,
            CardFunction.state.in_([FunctionState.ON_DUE, FunctionState.OFF_DUE]),
        )
        .distinct()
    ).all()
    created = []
    for vid in sorted(volunteer_ids):
        req = plan_volunteer(session, session.get(Volunteer, vid), actor=actor)
        if req is not None:
            created.append(req)
    session.flush()
    return created


# --------------------------------------------------------------------- settling answers


def _fn(req: HealthRequest) -> CardFunction:
    return next(f for f in req.card.functions if f.function == Function.HEALTH)


def close_request(req: HealthRequest, status: str, error: str | None = None) -> None:
    req.status, req.closed_at, req.next_attempt_at = status, utcnow(), None
    if error is not None:
        req.last_error = error[:300]


def settle_enrol(session: Session, req: HealthRequest, answer: EnrollResult) -> None:
    req.result, req.reason_code = answer.result, answer.reason_code
    if answer.succeeded:  # OK, or H02 (already active on this very card)
        req.health_card_no = answer.health_card_no
        close_request(req, S.DONE)
        req.last_error = None
        f = _fn(req)
        f.partner_ref = answer.health_card_no
        if f.state == FunctionState.ON_DUE:
            f.set_state(FunctionState.ON)
    else:
        close_request(req, S.FAILED, f"EnrollCard FAILED {answer.reason_code or ''}".strip())
    session.flush()


def settle_suspend(session: Session, req: HealthRequest, answer: SuspendResult) -> None:
    req.result, req.reason_code = answer.result, answer.reason_code
    if answer.succeeded:
        close_request(req, S.DONE)
        req.last_error = None
        for f in _functions(session, req.volunteer_id):
            if f.state == FunctionState.OFF_DUE:
                f.set_state(FunctionState.OFF, f.reason)
    else:
        close_request(req, S.FAILED, f"SuspendCard FAILED {answer.reason_code or ''}".strip())
    session.flush()


def backoff(attempts: int, base: float = BACKOFF_BASE) -> timedelta:
    return timedelta(seconds=min(BACKOFF_CAP, base * 2 ** max(0, attempts - 1)))
