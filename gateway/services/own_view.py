"""A volunteer's own records (信息查询), as the platform shows them to the volunteer: their
status and number, service time (in total and by month, with place and activity),
training, each card with its functions, the donations made in their name, and the history
of their cards that survived a reissue (信息恢复).

Everything is read for one volunteer by id: the caller (the volunteer scope of the API)
has already bound the request to that volunteer, so nothing here can reach another's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain.functions import Function
from gateway.models import Card, CardEvent, CardFunction, ServiceSession, TrainingRecord, Volunteer
from gateway.services import reconciliation
from gateway.timeutil import beijing_date


@dataclass
class CardView:
    card_id: str | None
    state: str
    carrier: str
    branch_code: str
    expiry: str | None
    functions: dict[str, str] = field(default_factory=dict)  # function -> state


@dataclass
class Profile:
    volunteer_no: str | None
    name: str
    status: str
    official_since: date | None
    deregistered: bool
    service_minutes: int
    training_minutes: int
    cards: list[CardView]


def profile(session: Session, volunteer: Volunteer) -> Profile:
    minutes = session.scalar(
        select(func.coalesce(func.sum(ServiceSession.minutes), 0)).where(
            ServiceSession.volunteer_id == volunteer.id
        )
    )
    training = session.scalar(
        select(func.coalesce(func.sum(TrainingRecord.minutes), 0)).where(
            TrainingRecord.volunteer_id == volunteer.id
        )
    )
    return Profile(
        volunteer_no=volunteer.volunteer_no,
        name=volunteer.name,
        status=volunteer.status,
        official_since=volunteer.official_since,
        deregistered=volunteer.deregistered_at is not None,
        service_minutes=int(minutes),
        training_minutes=int(training),
        cards=cards(session, volunteer),
    )


def cards(session: Session, volunteer: Volunteer) -> list[CardView]:
    out = []
    rows = session.scalars(select(Card).where(Card.volunteer_id == volunteer.id).order_by(Card.id))
    for card in rows:
        states = {f.function: f.state for f in session.scalars(
            select(CardFunction).where(CardFunction.card_pk == card.id).order_by(CardFunction.id)
        )}  # fmt: skip
        out.append(CardView(card.card_id, card.state, card.carrier, card.branch_code, card.expiry,
                            {fn.value: states.get(fn.value, "OFF") for fn in Function}))  # fmt: skip
    return out


@dataclass
class SessionRow:
    check_in: datetime | None
    check_out: datetime | None
    minutes: int
    activity: str | None
    place: str | None  # the district, OUTSIDE, or None for sessions recorded before places


@dataclass
class MonthOfService:
    month: str  # YYYY-MM, Beijing time
    minutes: int
    sessions: list[SessionRow]


def sessions_by_month(
    session: Session, volunteer: Volunteer, year: int | None = None
) -> list[MonthOfService]:
    per: dict[str, list[SessionRow]] = defaultdict(list)
    for s in session.scalars(
        select(ServiceSession).where(ServiceSession.volunteer_id == volunteer.id).order_by(ServiceSession.id)
    ):
        when = s.check_in or s.created_at
        day = beijing_date(when)
        if year is not None and day.year != year:
            continue
        per[f"{day:%Y-%m}"].append(SessionRow(s.check_in, s.check_out, s.minutes, s.activity, s.district))
    return [MonthOfService(m, sum(r.minutes for r in per[m]), per[m]) for m in sorted(per)]


def training(session: Session, volunteer: Volunteer) -> list[TrainingRecord]:
    return list(
        session.scalars(
            select(TrainingRecord)
            .where(TrainingRecord.volunteer_id == volunteer.id)
            .order_by(TrainingRecord.id)
        )
    )


@dataclass
class DonationMonth:
    period: str
    purchases: int
    reversals: int
    donated_fen: int  # 十分关爱: what the donation rule gives, 10 fen a purchase less reversals
    booked_fen: int  # what the fund booked in the volunteer's name


def donations(session: Session, volunteer: Volunteer) -> list[DonationMonth]:
    if volunteer.volunteer_no is None:
        return []
    return [
        DonationMonth(m.period, m.purchases, m.reversals, m.computed_fen, m.booked_fen)
        for m in reconciliation.volunteer_months(session, volunteer.volunteer_no)
    ]


@dataclass
class HistoryEntry:
    at: datetime
    card_id: str | None
    event: str
    from_state: str | None
    to_state: str | None


def history(session: Session, volunteer: Volunteer) -> list[HistoryEntry]:
    """Every card event of every card of the volunteer, oldest first: a reissued card's
    history stays with the volunteer, not with the card that died."""
    rows = session.execute(
        select(CardEvent, Card.card_id)
        .join(Card, Card.id == CardEvent.card_pk)
        .where(Card.volunteer_id == volunteer.id)
        .order_by(CardEvent.event_time, CardEvent.id)
    ).all()
    return [HistoryEntry(e.event_time, card_id, e.event, e.from_state, e.to_state) for e, card_id in rows]
