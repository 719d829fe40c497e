"""Volunteer use cases for the HTTP API and the CLI: apply, train, serve, approve, choose,
deregister, report a loss, cancel an order.

Each works in the caller's session (one transaction per request) and raises a coded
``DomainError`` (``gateway.domain.errors``) that the API turns into problem+json.
Errors and logs never carry PII; volunteers are named by their number.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain import eligibility as elig
from gateway.domain.errors import Conflict, Invalid, NotEligible, NotFound, Problem
from gateway.domain.functions import Function, FunctionState, OffReason, switch_off, switch_on
from gateway.domain.lifecycle import CardState
from gateway.domain.personal import ApplicantData, fields_of
from gateway.domain.places import Place
from gateway.domain.service_rules import SessionOverlap, check_session_end
from gateway.models import Branch, Card, CardRequest, Order, ServiceSession, TrainingRecord, Volunteer
from gateway.models.cards import OrderType
from gateway.models.types import lookup_key
from gateway.models.volunteers import SessionKind, VolunteerStatus
from gateway.services import cards as card_service
from gateway.services.cards import EventSource
from gateway.timeutil import beijing_today, utcnow
from keys.pii import lookup_hash
from schemas import rules

FIRST_OFFICIAL_NO = 1_000_000_001


@dataclass(frozen=True, kw_only=True)
class ApplicationData(ApplicantData):
    """What an applicant gives (plain values; PII is sealed when stored)."""

    opt_transit: bool = False
    opt_health: bool = False


@dataclass
class Deregistration:
    volunteer: Volunteer
    cancel_requests: list[CardRequest] = field(default_factory=list)


def id_hash(id_type: str, id_number: str) -> str:
    """Keyed hash of (id_type, id_number) for look-ups and duplicate detection."""
    return lookup_hash(lookup_key(), id_type, id_number)


def open_branches(session: Session) -> set[str]:
    return set(session.scalars(select(Branch.code).where(Branch.open.is_(True))))


def get_volunteer(session: Session, number: str) -> Volunteer:
    """By official number (10 digits) or provisional number."""
    column = Volunteer.volunteer_no if len(number) == 10 and number.isdigit() else Volunteer.provisional_no
    v = session.scalar(select(Volunteer).where(column == number))
    if v is None:
        raise NotFound("VOLUNTEER_NOT_FOUND", "no volunteer with this number", "volunteer_no")
    return v


def find_by_id(session: Session, id_type: str, id_number: str) -> list[Volunteer]:
    """Every volunteer record of this person (a deregistered one may have re-applied)."""
    return list(
        session.scalars(
            select(Volunteer).where(Volunteer.id_hash == id_hash(id_type, id_number)).order_by(Volunteer.id)
        )
    )


def new_provisional_no() -> str:
    return "P" + "".join(secrets.choice("0123456789") for _ in range(12))


def _minutes(session: Session, model, volunteer: Volunteer) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(model.minutes), 0)).where(model.volunteer_id == volunteer.id)
        )
    )


def candidate(session: Session, v: Volunteer) -> elig.Candidate:
    """What the eligibility rules look at, hours included."""
    return candidate_of(
        v,
        training_minutes=_minutes(session, TrainingRecord, v),
        service_minutes=_minutes(session, ServiceSession, v),
    )


def candidate_of(v: Volunteer, training_minutes: int = 0, service_minutes: int = 0) -> elig.Candidate:
    """``candidate`` with the hours given (a card order's rules do not look at them)."""
    return elig.Candidate(
        **fields_of(ApplicantData, v), training_minutes=training_minutes, service_minutes=service_minutes
    )


def _raise_first(problems: list[Problem]) -> None:
    if problems:
        raise NotEligible(problems, "invalid application")


def _require_active(v: Volunteer) -> None:
    if v.status == VolunteerStatus.DEREGISTERED:
        raise Conflict("DEREGISTERED", "the volunteer's registration was cancelled", "volunteer_no")


# ------------------------------------------------------------------ application


def create_application(
    session: Session, data: ApplicationData, *, actor: str, now: datetime | None = None
) -> Volunteer:
    """An applicant with a provisional number. Identity and contact fields must be valid
    (``NOT_ELIGIBLE`` lists every problem); the same person may not apply twice while an
    earlier record is active (``DUPLICATE_ID``)."""
    now = now or utcnow()
    today = beijing_today(now)
    c = elig.Candidate(**fields_of(ApplicantData, data))
    problems = elig.identity_problems(c, today)
    if data.carrier is not None:
        p = elig.carrier_problem(data.carrier, data.birth_date, today)
        problems += [p] if p else []
    if data.branch_code is not None:
        p = elig.branch_problem(data.branch_code, open_branches(session))
        problems += [p] if p else []
    if data.photo is not None and (reason := elig.photo_problem(data.photo)):
        problems.append(Problem("photo", "PHOTO", reason))
    _raise_first(problems)
    h = id_hash(data.id_type, data.id_number)
    if session.scalar(
        select(Volunteer.id)
        .where(Volunteer.id_hash == h, Volunteer.status != VolunteerStatus.DEREGISTERED)
        .limit(1)
    ):
        raise Conflict(
            "DUPLICATE_ID", "a volunteer with this ID is already registered or applying", "id_number"
        )
    v = Volunteer(
        provisional_no=new_provisional_no(),
        status=VolunteerStatus.APPLICANT,
        id_hash=h,
        applied_at=now,
        source=f"api:{actor}"[:120],
        **{k: getattr(data, k) for k in ApplicationData.__dataclass_fields__},
    )
    session.add(v)
    session.flush()
    return v


def record_training(
    session: Session,
    number: str,
    *,
    course: str,
    minutes: int,
    held_on: date | None = None,
    actor: str,
    place: Place | None = None,
) -> TrainingRecord:
    """A training course; ``place`` when it was recorded at a terminal."""
    v = get_volunteer(session, number)
    _require_active(v)
    if minutes <= 0 or minutes > 24 * 60:
        raise Invalid("MINUTES", "training minutes must be between 1 and 1440", "minutes")
    if not course or len(course) > 100:
        raise Invalid("FIELD_LENGTH", "course must be 1 to 100 characters", "course")
    row = TrainingRecord(
        volunteer_id=v.id, course=course, minutes=minutes, held_on=held_on, source=f"api:{actor}"[:120],
        district=place.district if place else None, terminal_id=place.terminal_id if place else None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def open_session(session: Session, v: Volunteer) -> ServiceSession | None:
    return session.scalar(
        select(ServiceSession).where(
            ServiceSession.volunteer_id == v.id,
            ServiceSession.kind == SessionKind.SESSION,
            ServiceSession.check_out.is_(None),
        )
    )


def _recorded(session: Session, v: Volunteer, *where) -> bool:
    """Whether a session of ``v`` already recorded (checked in and out) matches ``where``."""
    return bool(
        session.scalar(select(ServiceSession.id).where(ServiceSession.volunteer_id == v.id, *where).limit(1))
    )


def lock_volunteer(session: Session, v: Volunteer) -> None:
    """Hold the volunteer's row until commit, so two swipes at once (a terminal's resend)
    cannot both find no open session (PostgreSQL; SQLite writes one at a time anyway)."""
    session.execute(select(Volunteer.id).where(Volunteer.id == v.id).with_for_update())


def check_in(
    session: Session,
    number: str,
    *,
    at: datetime,
    activity: str | None = None,
    actor: str,
    place: Place | None = None,
) -> ServiceSession:
    """Start a service session at ``place`` (None: not given; counts inside Shenzhen).
    ``SESSION_OPEN`` if one is still open, ``SESSION_OVERLAP`` if ``at`` lies in a session
    already recorded (a late upload from an offline terminal): hours would count twice."""
    v = get_volunteer(session, number)
    _require_active(v)
    lock_volunteer(session, v)
    if open_session(session, v) is not None:
        raise Conflict("SESSION_OPEN", "the volunteer is already checked in", "check_in")
    if _recorded(session, v, ServiceSession.check_in <= at, ServiceSession.check_out > at):
        raise SessionOverlap("the check-in lies inside a session already recorded")
    row = ServiceSession(
        volunteer_id=v.id, kind=SessionKind.SESSION, activity=activity, check_in=at, minutes=0,
        source=f"api:{actor}"[:120], district=place.district if place else None,
        terminal_id=place.terminal_id if place else None, site=place.site if place else None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def check_out(session: Session, number: str, *, at: datetime, actor: str) -> ServiceSession:
    """End the open session; its minutes count toward pre-service hours. Refused before
    its check-in (``CHECK_OUT_BEFORE_CHECK_IN``) or more than a day after it
    (``SESSION_TOO_LONG``)."""
    v = get_volunteer(session, number)
    lock_volunteer(session, v)
    row = open_session(session, v)
    if row is None:
        raise Conflict("NO_OPEN_SESSION", "the volunteer is not checked in", "check_out")
    minutes = check_session_end(row.check_in, at)
    # Sessions are disjoint at check-in, so one overlaps this one iff it began inside it.
    if _recorded(session, v, ServiceSession.check_in > row.check_in, ServiceSession.check_in < at):
        raise SessionOverlap("a session already recorded began between this check-in and check-out")
    row.check_out, row.minutes = at, minutes
    session.flush()
    return row


def approve(session: Session, number: str, *, actor: str, now: datetime | None = None) -> Volunteer:
    """Approve an applicant: every eligibility rule (``NOT_ELIGIBLE`` lists all problems),
    then the next official 10-digit number, and a NEW card order (PENDING)."""
    now = now or utcnow()
    v = get_volunteer(session, number)
    if v.status != VolunteerStatus.APPLICANT:
        raise Conflict("NOT_APPLICANT", "only an applicant can be approved", "volunteer_no")
    today = beijing_today(now)
    problems = elig.approval_problems(candidate(session, v), today, open_branches(session))
    if problems:
        raise NotEligible(problems)
    v.volunteer_no = next_official_no(session)
    v.status = VolunteerStatus.OFFICIAL
    v.official_since = today
    session.flush()
    card_service.place_order(session, v, source=EventSource(actor=actor), now=now)
    return v


def next_official_no(session: Session) -> str:
    """One above the highest number ever issued: numbers are never reused (volunteers are
    never deleted); the unique constraint settles a concurrent approval."""
    top = session.scalar(select(func.max(Volunteer.volunteer_no)))
    return str(max(int(top) + 1 if top else FIRST_OFFICIAL_NO, FIRST_OFFICIAL_NO))


# ------------------------------------------------------------------ choices


def set_opt_ins(
    session: Session, number: str, *, transit: bool | None = None, health: bool | None = None, actor: str
) -> Volunteer:
    """Opt in or out of transit and the health card. On a card in use the function becomes
    due to be switched on or off. A deregistered volunteer may still change transit, not
    the health card (``DEREGISTERED``)."""
    v = get_volunteer(session, number)
    if health is not None and v.status == VolunteerStatus.DEREGISTERED:
        raise Conflict("DEREGISTERED", "the health-card function ended with the registration", "opt_health")
    in_use = session.scalars(
        select(Card).where(Card.volunteer_id == v.id, Card.state == CardState.IN_USE)
    ).all()
    for flag, function, attr in (
        (transit, Function.TRANSIT, "opt_transit"),
        (health, Function.HEALTH, "opt_health"),
    ):
        if flag is None or getattr(v, attr) == flag:
            continue
        setattr(v, attr, flag)
        for card in in_use:
            f = card_service.function_state(card, function)
            current = FunctionState(f.state)
            new = switch_on(function, current) if flag else switch_off(function, current)
            f.set_state(new, None if flag else OffReason.OPT_OUT)
    session.flush()
    return v


def set_card_choice(
    session: Session,
    number: str,
    *,
    carrier: str | None = None,
    branch_code: str | None = None,
    actor: str,
    now: datetime | None = None,
) -> Volunteer:
    """Choose the carrier and/or branch for the next order (cards already ordered keep theirs)."""
    v = get_volunteer(session, number)
    _require_active(v)
    today = beijing_today(now)
    problems = []
    if carrier is not None and (p := elig.carrier_problem(carrier, v.birth_date, today)):
        problems.append(p)
    if branch_code is not None and (p := elig.branch_problem(branch_code, open_branches(session))):
        problems.append(p)
    if problems:
        raise NotEligible(problems, "invalid choice")
    if carrier is not None:
        v.carrier = carrier
    if branch_code is not None:
        v.branch_code = branch_code
    session.flush()
    return v


def set_photo(session: Session, number: str, photo: bytes, *, actor: str) -> Volunteer:
    """Store the photo (a JPEG of at least 295×413 stored pixels; ``NOT_ELIGIBLE`` otherwise)."""
    v = get_volunteer(session, number)
    _require_active(v)
    reason = elig.photo_problem(photo)
    if reason:
        raise NotEligible([Problem("photo", "PHOTO", reason)], "invalid photo")
    v.photo = photo
    session.flush()
    return v


def set_guardian(session: Session, number: str, *, name: str, mobile: str, actor: str) -> Volunteer:
    """Record the guardian (needed under 14). ``NOT_ELIGIBLE`` for a bad name or mobile."""
    v = get_volunteer(session, number)
    _require_active(v)
    problems = []
    if not name or len(name) > elig.LENGTHS["guardian_name"]:
        problems.append(Problem("guardian_name", "FIELD_LENGTH", "must be 1 to 30 characters"))
    if not rules.is_mobile(mobile):
        problems.append(Problem("guardian_mobile", "MOBILE", "not a mainland mobile number"))
    if problems:
        raise NotEligible(problems, "invalid guardian")
    v.guardian_name, v.guardian_mobile = name, mobile
    session.flush()
    return v


# ------------------------------------------------------------------ deregistration, loss, cancel


def deregister(
    session: Session, number: str, *, at: datetime, actor: str, reason: str = ""
) -> Deregistration:
    """Cancel the registration (注销) at instant ``at`` (aware; stored UTC). Health card,
    insurance and donation credit end; financial and transit stay; every order not yet
    PRODUCED is withdrawn or gets a CANCEL_ORDER request. The number is never reactivated."""
    if at.tzinfo is None:
        raise Invalid("NAIVE_TIME", "the deregistration instant needs a time zone", "deregistered_at")
    v = get_volunteer(session, number)
    if v.status == VolunteerStatus.DEREGISTERED:
        raise Conflict("DEREGISTERED", "the registration is already cancelled", "volunteer_no")
    if v.status != VolunteerStatus.OFFICIAL:
        raise Conflict("NOT_OFFICIAL", "only an official volunteer can be deregistered", "volunteer_no")
    v.status = VolunteerStatus.DEREGISTERED
    v.deregistered_at = at
    requests = card_service.deregister_cards(session, v, source=EventSource(actor=actor), at=at)
    session.flush()
    return Deregistration(v, requests)


def report_loss(
    session: Session,
    number: str,
    *,
    at: datetime,
    actor: str,
    card_id: str | None = None,
    reason: str = "",
    request_id: str | None = None,
) -> CardRequest:
    """The volunteer reports the card lost: a pending LOSS_REPORT request (sent in the next
    CARDREQ) and the card shows "loss requested" until the bank's LOST_REPORTED."""
    v = get_volunteer(session, number)
    card = card_service.card_for_volunteer(session, v, card_id)
    return card_service.request_loss(
        session, card, source=EventSource(actor=actor, request_id=request_id), reason=reason, at=at
    )


def cancel_order(
    session: Session,
    order_id: str,
    *,
    at: datetime,
    actor: str,
    reason: str = "",
    request_id: str | None = None,
) -> tuple[Order, CardRequest | None]:
    """Cancel an order not yet produced: withdrawn if not yet sent (no request), otherwise a
    pending CANCEL_ORDER request. ``ORDER_NOT_CANCELLABLE`` once produced."""
    order = card_service.order_by_id(session, order_id)
    req = card_service.cancel_order(
        session,
        order,
        source=EventSource(actor=actor, request_id=request_id),
        reason=reason or "cancelled",
        at=at,
    )
    return order, req


def order_new_card(
    session: Session,
    number: str,
    *,
    actor: str,
    reason: str | None = None,
    carrier: str | None = None,
    by_operator: bool = True,
    now: datetime | None = None,
) -> Order:
    """An operator orders a NEW card (e.g. after a rejection, or a NEW DEBIT after a CREDIT
    card was cut and closed — ``reason`` required then). Eligibility of the card data is
    checked (``NOT_ELIGIBLE``)."""
    now = now or utcnow()
    v = get_volunteer(session, number)
    c = candidate(session, v)
    if carrier is not None:
        c = replace(c, carrier=carrier)
    problems = elig.card_order_problems(c, beijing_today(now), open_branches(session))
    if problems:
        raise NotEligible(problems)
    return card_service.place_order(
        session,
        v,
        source=EventSource(actor=actor),
        order_type=OrderType.NEW,
        carrier=carrier,
        reason=reason,
        by_operator=by_operator,
        now=now,
    )
