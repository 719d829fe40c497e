"""Turning models into API answers (plain dicts the schemas dump). Shared by the
volunteer and card blueprints; no PII decisions here (the schemas mask)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain.calendar import is_at_risk
from gateway.domain.lifecycle import CardState, allowed_events
from gateway.models import Card, CardRequest, Order, ServiceSession, TrainingRecord, Volunteer


def _minutes(session: Session, model: Any, volunteer_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(model.minutes), 0)).where(model.volunteer_id == volunteer_id)
    )
    return int(total or 0)


def minutes_by_volunteer(session: Session, model: Any, ids: list[int]) -> dict[int, int]:
    """Summed minutes of ``model`` rows per volunteer id, in one query (for a page)."""
    rows = session.execute(
        select(model.volunteer_id, func.sum(model.minutes))
        .where(model.volunteer_id.in_(ids))
        .group_by(model.volunteer_id)
    )
    return {vid: int(total or 0) for vid, total in rows}


def volunteers(session: Session, vs: list[Volunteer]) -> list[dict[str, Any]]:
    """Many volunteers, with their minutes summed in two queries rather than two each."""
    ids = [v.id for v in vs]
    training = minutes_by_volunteer(session, TrainingRecord, ids)
    service = minutes_by_volunteer(session, ServiceSession, ids)
    return [volunteer(session, v, training.get(v.id, 0), service.get(v.id, 0)) for v in vs]


def volunteer(
    session: Session, v: Volunteer, training_minutes: int | None = None, service_minutes: int | None = None
) -> dict[str, Any]:
    service = _minutes(session, ServiceSession, v.id) if service_minutes is None else service_minutes
    training = _minutes(session, TrainingRecord, v.id) if training_minutes is None else training_minutes
    return {
        "number": v.number,
        "volunteer_no": v.volunteer_no,
        "provisional_no": v.provisional_no,
        "status": v.status,
        "name": v.name,
        "id_type": v.id_type,
        "id_number": v.id_number,
        "gender": v.gender,
        "birth_date": v.birth_date,
        "mobile": v.mobile,
        "address": v.address,
        "emergency_name": v.emergency_name,
        "emergency_mobile": v.emergency_mobile,
        "guardian_name": v.guardian_name,
        "guardian_mobile": v.guardian_mobile,
        "has_photo": v.photo is not None,
        "opt_transit": v.opt_transit,
        "opt_health": v.opt_health,
        "carrier": v.carrier,
        "branch_code": v.branch_code,
        "applied_at": v.applied_at,
        "official_since": v.official_since,
        "deregistered_at": v.deregistered_at,
        "training_minutes": training,
        "service_minutes": service,
        "service_hours": round(service / 60, 2),
    }


def volunteer_detail(session: Session, v: Volunteer, today: date) -> dict[str, Any]:
    out = volunteer(session, v)
    cards = session.scalars(select(Card).where(Card.volunteer_id == v.id).order_by(Card.id))
    out["cards"] = [card_summary(c, today) for c in cards]
    out["training"] = list(v.training)
    out["open_session"] = session.scalar(
        select(ServiceSession).where(
            ServiceSession.volunteer_id == v.id,
            ServiceSession.check_in.is_not(None),
            ServiceSession.check_out.is_(None),
        )
    )
    return out


def card_summary(card: Card, today: date) -> dict[str, Any]:
    return {
        "id": card.id,
        "card_id": card.card_id,
        "masked_pan": card.masked_pan,
        "expiry": card.expiry,
        "carrier": card.carrier,
        "branch_code": card.branch_code,
        "state": card.state,
        "volunteer_no": card.volunteer.number,
        "order_id": card.order.order_id if card.order else None,
        "loss_requested": card.loss_requested_at is not None,
        "notified_on": card.notified_on,
        "pickup_deadline": card.pickup_deadline,
        "at_risk": bool(
            card.state == CardState.NOTIFIED
            and card.pickup_deadline
            and is_at_risk(card.pickup_deadline, today)
        ),
        "functions": [
            {"function": f.function, "state": f.state, "reason": f.reason, "changed_at": f.changed_at}
            for f in card.functions
        ],
    }


def card_detail(card: Card, today: date) -> dict[str, Any]:
    out = card_summary(card, today)
    out.update(
        order=order(card.order) if card.order else None,
        replaces_id=card.replaces_pk,
        replaced_by_id=card.replaced_by_pk,
        collected_at=card.collected_at,
        dead_at=card.dead_at,
        allowed_events=allowed_events(CardState(card.state), card.carrier),
        events=[
            {
                "id": e.id,
                "event": e.event,
                "event_time": e.event_time,
                "event_date": e.event_date,
                "applied_at": e.applied_at,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "source_file": e.source_file,
                "source_line": e.source_line,
                "request_id": e.request_id,
                "actor": e.actor,
                "inferred": e.inferred,
                "completes_id": e.completes_pk,
                "bank_event_id": e.bank_event_id,
                "payload": e.payload or {},
            }
            for e in card.events
        ],
    )
    return out


def order(o: Order) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "order_type": o.order_type,
        "status": o.status,
        "volunteer_no": o.volunteer.number,
        "carrier": o.carrier,
        "branch_code": o.branch_code,
        "created_at": o.created_at,
        "sent_at": o.sent_at,
        "day0": o.day0,
        "produced_due": o.produced_due,
        "notified_due": o.notified_due,
        "due_provisional": o.due_provisional,
        "produced_on": o.produced_on,
        "notified_on": o.notified_on,
        "reject_code": o.reject_code,
        "reject_text": o.reject_text,
        "closed_at": o.closed_at,
    }


def card_request(r: CardRequest) -> dict[str, Any]:
    return {
        "request_id": r.request_id,
        "request_type": r.request_type,
        "card_id": r.card.card_id if r.card else None,
        "order_id": r.order.order_id if r.order else None,
        "volunteer_no": r.volunteer.number,
        "request_time": r.request_time,
        "reason": r.reason,
        "status": r.status,
    }
