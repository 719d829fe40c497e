"""What every card change writes and names: where it came from (``EventSource``), what
``apply_event`` did (``Applied``), a new card record (one way to build it), the immutable
event rows, and the operator requests (loss reports, order cancellations) opened and
closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain import ids
from gateway.domain.functions import Function, FunctionState
from gateway.domain.lifecycle import DEAD_STATES, CardEventType, CardState
from gateway.models import Card, CardEvent, CardFunction, CardRequest, Order, Volunteer
from gateway.models.cards import RequestStatus
from gateway.timeutil import BEIJING, beijing_date, utcnow

DEAD = sorted(str(s) for s in DEAD_STATES)  # for SQL: Card.state.not_in(DEAD)


@dataclass(frozen=True)
class EventSource:
    """Where a change came from: a file line, an API request, a command; and who."""

    actor: str
    source_file: str | None = None
    source_line: int | None = None
    request_id: str | None = None


@dataclass
class Applied:
    """What ``apply_event`` did. ``events`` are the rows appended (inferred ones first)."""

    card: Card
    events: list[CardEvent] = field(default_factory=list)
    new_card: Card | None = None  # REISSUED: the replacement; EXPIRING: the renewal's card
    duplicate: bool = False  # a bank event_id seen before: nothing changed
    completed: bool = False  # the bank's result completed an inferred event
    notes: list[str] = field(default_factory=list)  # e.g. why an EXPIRING ordered no renewal


def beijing_midnight(day: date) -> datetime:
    """The instant a Beijing date starts (for CARDRESULT lines, which carry only a date)."""
    return datetime.combine(day, time(0), BEIJING).astimezone(UTC)


def new_card(
    volunteer: Volunteer,
    *,
    carrier: str,
    branch_code: str,
    state: CardState,
    order: Order | None,
    replaces: Card | None = None,
) -> Card:
    """A card record with its four functions, all OFF (every card has the four rows from
    the start), linked by relationships: the caller adds it to the session."""
    card = Card(
        volunteer=volunteer,
        order=order,
        carrier=carrier,
        branch_code=branch_code,
        state=state,
        notified_inferred=False,
        replaces=replaces,
    )
    card.functions = [CardFunction(function=f, state=FunctionState.OFF) for f in Function]
    return card


def append_event(
    session: Session,
    card: Card,
    event: CardEventType,
    *,
    event_time: datetime,
    event_date: date | None,
    source: EventSource,
    from_state: str | None,
    to_state: str | None,
    inferred: bool = False,
    payload: dict[str, Any] | None = None,
    bank_event_id: str | None = None,
    completes: CardEvent | None = None,
) -> CardEvent:
    row = CardEvent(
        card_pk=card.id,
        event=event,
        event_time=event_time,
        event_date=event_date or beijing_date(event_time),
        applied_at=utcnow(),
        from_state=from_state,
        to_state=to_state,
        source_file=source.source_file,
        source_line=source.source_line,
        request_id=source.request_id,
        actor=source.actor,
        inferred=inferred,
        completes_pk=completes.id if completes else None,
        bank_event_id=bank_event_id,
        payload=payload or {},
    )
    session.add(row)
    session.flush()
    return row


def close_requests(
    session: Session,
    *,
    card: Card | None = None,
    order: Order | None = None,
    status: str,
    outcome: str,
    at: datetime,
    request_type: str,
    before: datetime | None = None,
) -> None:
    query = select(CardRequest).where(
        CardRequest.request_type == request_type, CardRequest.status.in_(RequestStatus.OPEN)
    )
    if card is not None:
        query = query.where(CardRequest.card_pk == card.id)
    if order is not None:
        query = query.where(CardRequest.order_pk == order.id)
    for req in session.scalars(query):
        if before is not None and req.request_time > before:
            continue  # a loss report is closed only by an event after it was raised
        req.status, req.outcome, req.closed_at = status, outcome[:100], at


def open_request(
    session: Session,
    request_type: str,
    id_prefix: str,
    volunteer_id: int,
    at: datetime,
    reason: str,
    source: EventSource,
    **target: int,
) -> tuple[CardRequest, bool]:
    """The open request of this type for the card or order in ``target`` (``card_pk=`` or
    ``order_pk=``), or a new PENDING one; and whether it is new. A second report while one
    is open changes nothing."""
    ((column, pk),) = target.items()
    existing = session.scalar(
        select(CardRequest).where(
            getattr(CardRequest, column) == pk,
            CardRequest.request_type == request_type,
            CardRequest.status.in_(RequestStatus.OPEN),
        )
    )
    if existing is not None:
        return existing, False
    req = CardRequest(
        request_id=ids.new_id(id_prefix, at),
        request_type=request_type,
        volunteer_id=volunteer_id,
        request_time=at,
        reason=reason[:100],
        status=RequestStatus.PENDING,
        actor=source.actor[:64],
        **{column: pk},
    )
    session.add(req)
    session.flush()
    return req, True
