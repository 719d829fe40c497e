"""Read-only card queries: the pipeline, late and nearly-late orders, cards at risk of
being cut and closed, and a volunteer's card history. Dates are Beijing business dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain import calendar as cal_rules
from gateway.domain.lifecycle import STATE_ORDER, CardState
from gateway.models import Card, CardEvent, CardFunction, CardRequest, HeldEvent, Order, Volunteer
from gateway.models.cards import HeldStatus, OrderStatus, RequestStatus
from gateway.services.calendar import working_calendar

PRODUCED, NOTIFIED = "PRODUCED", "NOTIFIED"
# The result still awaited, by the card's state.
_AWAITING_PRODUCED = (CardState.ORDERED, CardState.ACCEPTED)
_AWAITING_NOTIFIED = (CardState.ORDERED, CardState.ACCEPTED, CardState.PRODUCED)


@dataclass(frozen=True)
class Pipeline:
    cards: dict[str, int]  # per card state, in lifecycle order (zeros included)
    orders: dict[str, int]  # per order status
    functions_due: dict[str, int]  # "TRANSIT ON_DUE" -> count
    requests_open: dict[str, int]  # "LOSS_REPORT PENDING" -> count
    held_events: int
    loss_requested: int


def pipeline(session: Session) -> Pipeline:
    cards = {str(s): 0 for s in STATE_ORDER}
    for state, n in session.execute(select(Card.state, func.count()).group_by(Card.state)):
        cards[state] = n
    orders = {s: n for s, n in session.execute(select(Order.status, func.count()).group_by(Order.status))}
    due = {
        f"{f} {s}": n
        for f, s, n in session.execute(
            select(CardFunction.function, CardFunction.state, func.count())
            .where(CardFunction.state.in_(("ON_DUE", "OFF_DUE")))
            .group_by(CardFunction.function, CardFunction.state)
        )
    }
    reqs = {
        f"{t} {s}": n
        for t, s, n in session.execute(
            select(CardRequest.request_type, CardRequest.status, func.count())
            .where(CardRequest.status.in_(RequestStatus.OPEN))
            .group_by(CardRequest.request_type, CardRequest.status)
        )
    }
    held = session.scalar(
        select(func.count()).select_from(HeldEvent).where(HeldEvent.status == HeldStatus.HELD)
    )
    loss = session.scalar(
        select(func.count())
        .select_from(Card)
        .where(Card.loss_requested_at.is_not(None), Card.state.in_(("PRODUCED", "NOTIFIED", "IN_USE")))
    )
    return Pipeline(cards, orders, due, reqs, held or 0, loss or 0)


@dataclass(frozen=True)
class OrderDue:
    order_id: str
    volunteer_no: str
    state: str  # the card's state
    result: str  # PRODUCED or NOTIFIED: the result awaited
    due: date
    provisional: bool
    day0: date


def _awaited(session: Session, today: date, late: bool, within: int) -> list[OrderDue]:
    cal = working_calendar(session)
    horizon = cal.add_working_days(today, within).day if within > 0 else today
    rows = session.execute(
        select(Order, Card.state, Volunteer.volunteer_no)
        .join(Card, Card.order_pk == Order.id)
        .join(Volunteer, Volunteer.id == Order.volunteer_id)
        .where(Order.day0.is_not(None), Card.state.in_([str(s) for s in _AWAITING_NOTIFIED]))
        .order_by(Order.notified_due, Order.order_id)
    ).all()
    out = []
    for order, state, no in rows:
        for result, due, states in (
            (PRODUCED, order.produced_due, _AWAITING_PRODUCED),
            (NOTIFIED, order.notified_due, _AWAITING_NOTIFIED),
        ):
            if state not in states or due is None:
                continue
            if (late and due < today) or (not late and today <= due <= horizon):
                out.append(
                    OrderDue(order.order_id, no or "", state, result, due, order.due_provisional, order.day0)
                )
    return sorted(out, key=lambda o: (o.due, o.order_id, o.result))


def overdue_orders(session: Session, today: date) -> list[OrderDue]:
    """Orders whose PRODUCED or NOTIFIED result is past its due date and still awaited."""
    return _awaited(session, today, late=True, within=0)


def due_soon_orders(
    session: Session, today: date, within: int = cal_rules.DUE_SOON_WORKING_DAYS
) -> list[OrderDue]:
    """Orders due today or within ``within`` working days that have not had that result."""
    return _awaited(session, today, late=False, within=within)


@dataclass(frozen=True)
class AtRisk:
    card_id: str | None
    volunteer_no: str
    branch_code: str
    notified_on: date
    pickup_deadline: date
    days_left: int


def at_risk_cards(session: Session, today: date) -> list[AtRisk]:
    """Cards waiting at the branch whose pickup deadline is within 30 days (inclusive)."""
    rows = session.execute(
        select(Card, Volunteer.volunteer_no)
        .join(Volunteer, Volunteer.id == Card.volunteer_id)
        .where(
            Card.state == CardState.NOTIFIED,
            Card.pickup_deadline >= today,
            Card.pickup_deadline <= today + timedelta(days=cal_rules.AT_RISK_DAYS),
        )
        .order_by(Card.pickup_deadline, Card.id)
    ).all()
    return [
        AtRisk(
            c.card_id,
            no or "",
            c.branch_code,
            c.notified_on,
            c.pickup_deadline,
            (c.pickup_deadline - today).days,
        )
        for c, no in rows
        if cal_rules.is_at_risk(c.pickup_deadline, today)
    ]


@dataclass(frozen=True)
class CardHistory:
    card: Card
    order: Order | None
    events: list[CardEvent]
    functions: dict[str, tuple[str, str | None]]
    requests: list[CardRequest]


def history(session: Session, volunteer: Volunteer) -> list[CardHistory]:
    """Every card of the volunteer, oldest first, with its events, functions and requests."""
    out = []
    for card in session.scalars(select(Card).where(Card.volunteer_id == volunteer.id).order_by(Card.id)):
        events = list(
            session.scalars(select(CardEvent).where(CardEvent.card_pk == card.id).order_by(CardEvent.id))
        )
        cond = CardRequest.card_pk == card.id
        if card.order_pk is not None:
            cond = cond | (CardRequest.order_pk == card.order_pk)
        reqs = list(session.scalars(select(CardRequest).where(cond).order_by(CardRequest.id)))
        out.append(
            CardHistory(
                card, card.order, events, {f.function: (f.state, f.reason) for f in card.functions}, reqs
            )
        )
    return out


def pending_orders(session: Session) -> list[Order]:
    """Orders due to be sent in the next CARDORDER (the bank adapter's input)."""
    return list(session.scalars(select(Order).where(Order.status == OrderStatus.PENDING).order_by(Order.id)))


@dataclass(frozen=True)
class Funnel:
    """How far volunteers got with their cards, each stage counting the volunteers with a
    card that reached it (so each is at most the one before), and the cards that left the
    way (rejected, lost, cut and closed)."""

    stages: dict[str, int]  # applied, official, ordered, accepted, produced, notified, collected
    exits: dict[str, int]  # rejected, lost, cut_closed


def funnel(session: Session) -> Funnel:
    """The card pipeline as a funnel of volunteers, in three aggregate queries (no row is loaded)."""
    applied, official = session.execute(
        select(func.count(), func.count(Volunteer.official_since)).select_from(Volunteer)
    ).one()
    # Each stage's condition implies the one before, and volunteers are counted (a reissue
    # or a renewal is a second card of the same volunteer), so the funnel never widens.
    not_accepted = [str(s) for s in (CardState.ORDERED, CardState.REJECTED, CardState.CANCELLED)]
    accepted = Card.state.not_in(not_accepted)
    produced = accepted & Card.card_id.is_not(None)
    notified = produced & (Card.notified_on.is_not(None) | Card.collected_at.is_not(None))
    collected = produced & Card.collected_at.is_not(None)
    who = func.count(func.distinct(Card.volunteer_id))
    ordered, *reached = session.execute(
        select(who, *(who.filter(cond) for cond in (accepted, produced, notified, collected))).select_from(
            Card
        )
    ).one()
    accepted_n, produced_n, notified_n, collected_n = reached
    exits = {"rejected": 0, "lost": 0, "cut_closed": 0}
    for state, n in session.execute(
        select(Card.state, func.count())
        .where(Card.state.in_((CardState.REJECTED, CardState.LOST, CardState.CUT_CLOSED)))
        .group_by(Card.state)
    ):
        exits[state.lower()] = n
    stages = {"applied": applied, "official": official, "ordered": ordered, "accepted": accepted_n,
              "produced": produced_n, "notified": notified_n, "collected": collected_n}  # fmt: skip
    return Funnel(stages, exits)
