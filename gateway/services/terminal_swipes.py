"""Service recorded where it happens: a check-in, a check-out or a training swiped at one
of the platform's POS terminals, or sent by the platform with the district it knows.

A swipe names the volunteer by the card's ``card_id`` or by the volunteer number (one of
them), its instant, and the terminal (``terminal_id``) and/or the district. The session
takes the district the platform gives, else the terminal's; one of them is required
(``PLACE_REQUIRED``): service outside the city is recorded as ``OUTSIDE``, never assumed.
The rules are ``gateway.domain.service_rules``; the session itself is recorded by
``gateway.services.volunteers`` (one open session per volunteer, the one-day rule).

A swipe at a terminal repeated within ``REPEAT_WINDOW`` (same terminal, same volunteer,
same kind) is the same swipe: it answers with what the first recorded, and records
nothing more. docs/decisions.md, "Service records where they happen (issue 14)".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain import places
from gateway.domain.errors import Invalid
from gateway.domain.places import Place
from gateway.domain.service_rules import (
    REPEAT_WINDOW,
    CardNotFound,
    PlaceRequired,
    SwipeKind,
    UnknownDistrict,
    card_refusal,
    check_swipe_time,
)
from gateway.models import Card, ServiceSession, Terminal, TerminalSwipe, TrainingRecord, Volunteer
from gateway.services import terminals
from gateway.services import volunteers as vs
from gateway.timeutil import beijing_date, utcnow


@dataclass(frozen=True)
class Swipe:
    """What a terminal (or the platform) says happened."""

    at: datetime
    card_id: str | None = None
    volunteer_no: str | None = None
    terminal_id: str | None = None
    district: str | None = None  # the platform's: a code or a name, or OUTSIDE
    site: str | None = None  # the platform's


@dataclass(frozen=True)
class Recorded:
    """What a swipe recorded; ``repeated`` when it was a repeat of an earlier swipe."""

    record: ServiceSession | TrainingRecord
    repeated: bool = False


@dataclass(frozen=True)
class _Who:
    volunteer: Volunteer
    card: Card | None
    terminal: Terminal | None


def check_in(
    session: Session, swipe: Swipe, *, activity: str | None = None, actor: str, now: datetime | None = None
) -> Recorded:
    """Start a session at the swipe's place."""
    who, repeat = _begin(session, swipe, SwipeKind.CHECK_IN, now)
    if repeat is not None:
        return Recorded(session.get(ServiceSession, repeat.session_id), repeated=True)
    _card_may(who, starting=True)
    place = _place(swipe, who.terminal)
    row = vs.check_in(session, who.volunteer.number, at=swipe.at, activity=activity, actor=actor, place=place)
    _log(session, who, SwipeKind.CHECK_IN, swipe.at, session_id=row.id)
    return Recorded(row)


def check_out(session: Session, swipe: Swipe, *, actor: str, now: datetime | None = None) -> Recorded:
    """End the open session (which keeps the place of its check-in)."""
    who, repeat = _begin(session, swipe, SwipeKind.CHECK_OUT, now)
    if repeat is not None:
        return Recorded(session.get(ServiceSession, repeat.session_id), repeated=True)
    _card_may(who, starting=False)
    row = vs.check_out(session, who.volunteer.number, at=swipe.at, actor=actor)
    _log(session, who, SwipeKind.CHECK_OUT, swipe.at, session_id=row.id)
    return Recorded(row)


def record_training(
    session: Session, swipe: Swipe, *, course: str, minutes: int, actor: str, now: datetime | None = None
) -> Recorded:
    """A training course attended at the swipe's place, held on the swipe's Beijing date."""
    who, repeat = _begin(session, swipe, SwipeKind.TRAINING, now)
    if repeat is not None:
        return Recorded(session.get(TrainingRecord, repeat.training_id), repeated=True)
    _card_may(who, starting=True)
    row = vs.record_training(
        session,
        who.volunteer.number,
        course=course,
        minutes=minutes,
        held_on=beijing_date(swipe.at),
        actor=actor,
        place=_place(swipe, who.terminal),
    )
    _log(session, who, SwipeKind.TRAINING, swipe.at, training_id=row.id)
    return Recorded(row)


# ------------------------------------------------------------------ steps


def _begin(
    session: Session, swipe: Swipe, kind: str, now: datetime | None
) -> tuple[_Who, TerminalSwipe | None]:
    """Who swiped where, and the earlier swipe this one repeats (or None). The volunteer's
    row is locked first, so a terminal's resend arriving at once waits for the first
    and then finds it."""
    check_swipe_time(swipe.at, now or utcnow())
    if (swipe.card_id is None) == (swipe.volunteer_no is None):
        raise Invalid(
            "CARD_OR_NUMBER", "give the card's card_id or the volunteer number, one of them", "card_id"
        )
    card = None
    if swipe.card_id is not None:
        card = session.scalar(select(Card).where(Card.card_id == swipe.card_id))
        if card is None:
            raise CardNotFound("no card with this card_id")
        volunteer = card.volunteer
    else:
        volunteer = vs.get_volunteer(session, swipe.volunteer_no or "")
    terminal = terminals.usable_terminal(session, swipe.terminal_id) if swipe.terminal_id else None
    vs.lock_volunteer(session, volunteer)
    who = _Who(volunteer, card, terminal)
    if terminal is None:
        return who, None  # only a terminal's swipes repeat; the platform has Idempotency-Key
    repeat = session.scalar(
        select(TerminalSwipe)
        .where(
            TerminalSwipe.terminal_pk == terminal.id,
            TerminalSwipe.volunteer_id == volunteer.id,
            TerminalSwipe.kind == kind,
            TerminalSwipe.at >= swipe.at - REPEAT_WINDOW,
            TerminalSwipe.at <= swipe.at + REPEAT_WINDOW,
        )
        .order_by(TerminalSwipe.id)
        .limit(1)
    )
    return who, repeat


def _card_may(who: _Who, *, starting: bool) -> None:
    if who.card is not None and (
        refusal := card_refusal(who.card.state, who.card.loss_requested_at is not None, starting=starting)
    ):
        raise refusal


def _place(swipe: Swipe, terminal: Terminal | None) -> Place:
    """The platform's district if it gives one (a mobile terminal taken to an event), else
    the terminal's. The terminal's site goes with the terminal's district only."""
    terminal_id = terminal.terminal_id if terminal else None
    if swipe.district is not None:
        found = places.district(swipe.district)
        if found is None:
            raise UnknownDistrict("not a Shenzhen district code or name, nor OUTSIDE")
        same = terminal is not None and terminal.district == found.code
        return Place(
            found.code, terminal_id, swipe.site or (terminal.site_name if same and terminal else None)
        )
    if terminal is None:
        raise PlaceRequired("give the terminal_id or the district (OUTSIDE for service outside Shenzhen)")
    return Place(terminal.district, terminal_id, swipe.site or terminal.site_name)


def _log(session: Session, who: _Who, kind: str, at: datetime, **recorded: int) -> None:
    if who.terminal is None:
        return
    session.add(
        TerminalSwipe(
            terminal_pk=who.terminal.id,
            volunteer_id=who.volunteer.id,
            kind=kind,
            at=at,
            card_id=who.card.card_id if who.card else None,
            **recorded,
        )
    )
    session.flush()
