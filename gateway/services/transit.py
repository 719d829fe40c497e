"""Shenzhen Tong's rules (transit.md), in one place.

Design: the lifecycle never creates transit requests itself. The cards service (and the
volunteers' opt-in service) only move the card's TRANSIT function to ``ON_DUE`` ("must be
switched on at SZT") or ``OFF_DUE`` ("must be switched off"); ``sync_requests`` — run by
the TRANSITREQ builder, in the transaction that writes the file — turns those states into
requests, and ``apply_answer`` (TRANSITACK) settles them. Because requests are derived
only when a file is written, two opposite changes between two files leave no request at
all (rule ``CANCEL_OUT``), and the request history decides whether a DISABLE is needed.

Rules (named as the tests name them):

- ``ENABLE_ON_COLLECTION`` / ``ENABLE_ON_OPT_IN``: a card ``ON_DUE`` gets one ENABLE,
  unless an ENABLE is already at SZT (unanswered, or answered OK/T02).
- ``DISABLE_ONLY_IF_ENABLED``: a card ``OFF_DUE`` gets one DISABLE only when its last
  ENABLE was answered OK or T02 or is still unanswered; otherwise it is simply OFF.
- ``DEREGISTRATION_KEEPS_TRANSIT``: nothing here looks at the registration.
- ``NEVER_TWICE``: a request is written once; only a file SZT rejected whole sends its
  requests again, with the same ids (partners/README.md "Resends").
- ``CANCEL_OUT``: an unsent request opposite to what the card now needs is cancelled, and
  the opposite one is not created.
- ``FAILED_CLOSES``: FAILED (not T02) closes the request, shows it to an operator, and
  moves the function out of its "due" state, so nothing is repeated automatically; an
  operator raises a new request (new id) with ``retry``.
- ``T02_IS_SUCCESS``; ``ANSWER_ONCE``: a resent answer changes nothing.
- ``UNANSWERED_NOT_REPEATED``: a SENT request is never sent again (``unanswered`` lists
  them for operators to chase).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.transit.records import TransitAnswer, account_problem
from gateway.domain import ids
from gateway.domain.errors import Conflict, NotFound
from gateway.domain.functions import Function, FunctionState
from gateway.models import Card, CardFunction
from gateway.models.transit import TransitAction, TransitRequest, TransitStatus
from gateway.timeutil import utcnow

A, S = TransitAction, TransitStatus
ID_KIND = {A.ENABLE: "E", A.DISABLE: "D"}


@dataclass(frozen=True)
class AnswerOutcome:
    status: str  # applied | resent | differs | unknown | unexpected | record_error
    request: TransitRequest | None = None
    problem: tuple[str, str] | None = None  # record_error: (field, reason)


def _requests(session: Session, card: Card) -> list[TransitRequest]:
    return list(
        session.scalars(
            select(TransitRequest).where(TransitRequest.card_pk == card.id).order_by(TransitRequest.id)
        )
    )


def _at_szt(history: list[TransitRequest]) -> TransitRequest | None:
    """The last request SZT has (or will have) acted on: sent and not failed or rejected."""
    for r in reversed(history):
        if r.status in (S.SENT, S.ANSWERED):
            return r
    return None


def _new_request(session: Session, card: Card, action: str, cause: str, actor: str) -> TransitRequest:
    req = TransitRequest(
        request_id=ids.new_id(ID_KIND[action]),
        action=action,
        card_pk=card.id,
        card_id=card.card_id,
        volunteer_id=card.volunteer_id,
        volunteer_no=card.volunteer.volunteer_no,
        status=S.PENDING,
        cause=cause[:40],
        created_by=actor[:64],
    )
    session.add(req)
    session.flush()
    return req


def sync_card(session: Session, f: CardFunction, *, actor: str = "system") -> TransitRequest | None:
    """Bring one card's TRANSIT function and its requests in step; the new request, if any."""
    card = f.card
    if f.state not in (FunctionState.ON_DUE, FunctionState.OFF_DUE) or card.card_id is None:
        return None
    want = A.ENABLE if f.state == FunctionState.ON_DUE else A.DISABLE
    history = _requests(session, card)
    now = utcnow()
    for r in history:
        if r.status == S.PENDING and r.action != want:  # CANCEL_OUT
            r.status, r.closed_at = S.CANCELLED, now
            r.note = f"cancelled out by an opposite change before sending ({want})"
    if any(r.status == S.PENDING and r.action == want for r in history):
        return None  # already waiting for the next file
    last = _at_szt(history)
    if want == A.ENABLE:
        if last is not None and last.action == A.ENABLE:
            if last.status == S.ANSWERED:
                f.set_state(FunctionState.ON)  # it is on at SZT: the DISABLE never went
            return None  # ENABLE unanswered: wait, never repeat
        return _new_request(session, card, A.ENABLE, f.reason or "ON_DUE", actor)
    if last is not None and last.action == A.DISABLE:
        if last.status == S.ANSWERED:
            f.set_state(FunctionState.OFF, f.reason)
        return None
    if last is not None and last.action == A.ENABLE:  # answered OK/T02, or unanswered
        return _new_request(session, card, A.DISABLE, f.reason or "OFF_DUE", actor)
    f.set_state(FunctionState.OFF, f.reason)  # DISABLE_ONLY_IF_ENABLED: never on at SZT
    return None


def sync_requests(session: Session, *, actor: str = "system") -> list[TransitRequest]:
    """Derive requests for every card whose TRANSIT function is due; the pending requests
    (new and waiting), oldest first."""
    due = session.scalars(
        select(CardFunction)
        .where(
            CardFunction.function == Function.TRANSIT,
            CardFunction.state.in_([FunctionState.ON_DUE, FunctionState.OFF_DUE]),
        )
        .order_by(CardFunction.id)
    )
    for f in due:
        sync_card(session, f, actor=actor)
    session.flush()
    return pending(session)


def pending(session: Session) -> list[TransitRequest]:
    return list(
        session.scalars(
            select(TransitRequest).where(TransitRequest.status == S.PENDING).order_by(TransitRequest.id)
        )
    )


def mark_sent(req: TransitRequest, file_name: str, effective: date) -> None:
    req.status, req.sent_file, req.sent_at, req.effective_date, req.note = (
        S.SENT,
        file_name,
        utcnow(),
        effective,
        None,
    )


def mark_refused(req: TransitRequest, field: str, reason: str) -> None:
    """Our writer refused it: it stays pending, visible to operators."""
    req.note = f"refused by our writer: {field}: {reason}"[:300]


def resend_after_rejected_file(req: TransitRequest, file_name: str) -> None:
    """The partner rejected the whole file: never received, so it goes again, same id."""
    if req.status == S.SENT and req.sent_file == file_name:
        req.status, req.note = S.PENDING, f"{file_name} rejected whole: sent again"


def close_record_error(session: Session, req: TransitRequest, errors: list[str]) -> None:
    """SZT listed it in a PARTIAL ACK: no TRANSITACK will come; closed as rejected, the
    function leaves its due state (an operator decides, like FAILED)."""
    if req.status != S.SENT:
        return
    req.status, req.closed_at = S.REJECTED, utcnow()
    req.note = ("record error: " + ";".join(errors))[:300]
    _after_failure(req)


def _transit_fn(card: Card) -> CardFunction:
    return next(f for f in card.functions if f.function == Function.TRANSIT)


def _after_failure(req: TransitRequest) -> None:
    # FAILED_CLOSES: SZT did not act, so the card is as it was before the request; leave
    # the due state so that nothing repeats it automatically.
    f = _transit_fn(req.card)
    if req.action == A.ENABLE and f.state == FunctionState.ON_DUE:
        f.set_state(FunctionState.OFF, "FAILED")
    elif req.action == A.DISABLE and f.state == FunctionState.OFF_DUE:
        f.set_state(FunctionState.ON, "FAILED")


def apply_answer(
    session: Session,
    *,
    request_id: str,
    result: str,
    reason_code: str | None,
    account_no: str | None,
    processed_date: date,
    success: bool,
    file_name: str,
) -> AnswerOutcome:
    """One TRANSITACK record, exactly once (ANSWER_ONCE)."""
    req = session.scalar(select(TransitRequest).where(TransitRequest.request_id == request_id))
    if req is None:
        return AnswerOutcome("unknown")
    if req.result is not None:
        same = (req.result, req.reason_code, req.transit_account_no) == (result, reason_code, account_no)
        return AnswerOutcome("resent" if same else "differs", req)
    if req.status != S.SENT:
        return AnswerOutcome("unexpected", req)  # never sent, cancelled or a record error
    problem = account_problem(
        req.action, TransitAnswer(request_id, result, reason_code, account_no, processed_date)
    )
    if problem is not None:
        # A record error (transit.md field 4): not applied; the request stays SENT for a
        # corrected answer, and the file's ACK lists the line (PARTIAL, E07).
        return AnswerOutcome("record_error", req, problem)
    req.result, req.reason_code, req.transit_account_no = result, reason_code, account_no
    req.processed_date, req.answer_file, req.closed_at = processed_date, file_name, utcnow()
    f = _transit_fn(req.card)
    if success:  # OK, or T02_IS_SUCCESS
        req.status = S.ANSWERED
        if req.action == A.ENABLE:
            if account_no:
                f.partner_ref = account_no
            if f.state == FunctionState.ON_DUE:
                f.set_state(FunctionState.ON)
        elif f.state == FunctionState.OFF_DUE:
            f.set_state(FunctionState.OFF, f.reason)
    else:
        req.status = S.FAILED
        _after_failure(req)
    session.flush()
    return AnswerOutcome("applied", req)


def retry(session: Session, request_id: str, *, actor: str, note: str) -> TransitRequest | None:
    """An operator raises a FAILED/REJECTED request again: the function becomes due, and the
    next TRANSITREQ carries a new request (new id) if the card still needs it."""
    req = session.scalar(select(TransitRequest).where(TransitRequest.request_id == request_id))
    if req is None:
        raise NotFound("TRANSIT_REQUEST_NOT_FOUND", "no such transit request", "request_id")
    if req.status not in S.NEEDS_OPERATOR:
        raise Conflict("NOT_FAILED", "only a FAILED or REJECTED request can be raised again", "request_id")
    again = session.scalar(
        select(TransitRequest).where(
            TransitRequest.card_pk == req.card_pk,
            TransitRequest.action == req.action,
            TransitRequest.status.in_(sorted(S.OPEN)),
        )
    )
    if again is not None:
        raise Conflict("ALREADY_RAISED", f"{req.action} for this card is already open as {again.request_id}")
    f = _transit_fn(req.card)
    f.set_state(FunctionState.ON_DUE if req.action == A.ENABLE else FunctionState.OFF_DUE, "OPERATOR")
    req.note = (f"{req.note or ''} | raised again by {actor}: {note}").strip(" |")[:300]
    return sync_card(session, f, actor=actor)


def needing_operator(session: Session) -> list[TransitRequest]:
    """FAILED and REJECTED requests (shown to operators)."""
    return list(
        session.scalars(
            select(TransitRequest)
            .where(TransitRequest.status.in_(sorted(S.NEEDS_OPERATOR)))
            .order_by(TransitRequest.id)
        )
    )


def refused_by_writer(session: Session) -> list[TransitRequest]:
    """PENDING requests our writer refused (partners/README.md: they stay pending for an
    operator; the next day's file tries them again)."""
    return list(
        session.scalars(
            select(TransitRequest)
            .where(TransitRequest.status == S.PENDING, TransitRequest.note.like("refused by our writer%"))
            .order_by(TransitRequest.id)
        )
    )


def unanswered(session: Session, sent_before: datetime) -> list[TransitRequest]:
    """Requests sent before ``sent_before`` and still unanswered: operators chase them."""
    return list(
        session.scalars(
            select(TransitRequest)
            .where(TransitRequest.status == S.SENT, TransitRequest.sent_at < sent_before)
            .order_by(TransitRequest.id)
        )
    )
