"""Cards and orders: a card with its full history, lists by state, overdue orders,
at-risk cards; report a loss; cancel an order not yet produced."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from gateway.api import views
from gateway.api.auth import caller
from gateway.api.blueprint import ApiBlueprint
from gateway.api.pagination import page_list, page_query
from gateway.api.problems import Problem, validation_problem
from gateway.api.unit import db
from gateway.domain.lifecycle import CardState
from gateway.models import Card, Order, Volunteer
from gateway.services import card_queries
from gateway.services import cards as card_svc
from gateway.services import volunteers as volunteer_svc
from gateway.timeutil import beijing_today, utcnow
from schemas.api.cards import (
    CancelOrderResultSchema,
    CancelOrderSchema,
    CardDetailSchema,
    CardListArgsSchema,
    CardPageSchema,
    CardRequestSchema,
    LossReportSchema,
    OverdueArgsSchema,
    OverdueOrderPageSchema,
)
from schemas.api.common import PageArgsSchema

blp = ApiBlueprint("cards", __name__, description="Cards, their event history, and card orders.")

READERS = ["platform", "operator", "auditor"]
# A page of summaries needs the volunteer's number and the order's id only: loading the
# whole rows would decrypt every PII column of every volunteer (and read the order's
# photo) for nothing — most of a page's cost before.
_LOAD = (
    selectinload(Card.functions),
    selectinload(Card.order).load_only(Order.id, Order.order_id),
    selectinload(Card.volunteer).load_only(Volunteer.id, Volunteer.volunteer_no, Volunteer.provisional_no),
)


def _request_ref() -> str:
    """The API request a card event came from: the token and its Idempotency-Key."""
    return f"{caller().name}:{request.headers.get('Idempotency-Key', '')}"[:64]


@blp.route("/cards", methods=["GET"], roles=READERS)
@blp.arguments(CardListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CardPageSchema)
def list_cards(filters: dict[str, Any], page: dict[str, Any]) -> Any:
    """Cards by id, optionally by state, volunteer or the bank's card_id."""
    stmt = select(Card).options(*_LOAD)
    if "state" in filters:
        if filters["state"] not in CardState.__members__:
            raise validation_problem({"state": ["one of " + ", ".join(CardState.__members__)]})
        stmt = stmt.where(Card.state == filters["state"])
    if "card_id" in filters:
        stmt = stmt.where(Card.card_id == filters["card_id"])
    if "volunteer_no" in filters:
        number = filters["volunteer_no"]
        stmt = stmt.join(Volunteer, Card.volunteer_id == Volunteer.id).where(
            (Volunteer.volunteer_no == number) | (Volunteer.provisional_no == number)
        )
    result = page_query(db(), stmt, [Card.id], page, lambda c: [c.id])
    today = beijing_today()
    result["items"] = [views.card_summary(c, today) for c in result["items"]]
    return result


@blp.route("/cards/<int(max=2147483647):card_pk>", methods=["GET"], roles=READERS)
@blp.response(200, CardDetailSchema)
def get_card(card_pk: int) -> Any:
    """A card with its order, functions, allowed events and full event history."""
    card = db().get(Card, card_pk)
    if card is None:
        raise Problem(404, "card-not-found", "Card not found", "no card with this id", field="card_pk")
    return views.card_detail(card, beijing_today())


@blp.route("/cards/at-risk", methods=["GET"], roles=READERS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CardPageSchema)
def at_risk_cards(page: dict[str, Any]) -> Any:
    """Cards waiting at the branch within 30 days of their pickup deadline, soonest first."""
    today = beijing_today()
    risky = card_queries.at_risk_cards(db(), today)
    tokens = [r.card_id for r in risky if r.card_id]
    by_token = {
        c.card_id: c for c in db().scalars(select(Card).options(*_LOAD).where(Card.card_id.in_(tokens)))
    }
    cards = [views.card_summary(by_token[r.card_id], today) for r in risky if r.card_id in by_token]
    return page_list(cards, page, lambda c: [c["pickup_deadline"], c["id"]])


@blp.route("/cards/overdue-orders", methods=["GET"], roles=["operator", "auditor"])
@blp.arguments(OverdueArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, OverdueOrderPageSchema)
def overdue_orders(args: dict[str, Any], page: dict[str, Any]) -> Any:
    """Orders whose PRODUCED or NOTIFIED result is late, soonest due first.

    With ``due_within=N``, also those due within N working days (bank.md "Service levels")."""
    today = beijing_today()
    awaited = [(o, True) for o in card_queries.overdue_orders(db(), today)]
    if args["due_within"]:
        awaited += [(o, False) for o in card_queries.due_soon_orders(db(), today, args["due_within"])]
    ids = {a.order_id for a, _ in awaited}
    stmt = select(Order).options(selectinload(Order.volunteer)).where(Order.order_id.in_(ids))
    orders = {o.order_id: o for o in db().scalars(stmt)}
    items = [
        {
            "order": views.order(orders[a.order_id]),
            "milestone": a.result,
            "due": a.due,
            "late": late,
            "card_state": a.state,
        }
        for a, late in awaited
    ]
    return page_list(items, page, lambda i: [i["due"], i["order"]["order_id"], i["milestone"]])


@blp.route(
    "/cards/<int(max=2147483647):card_pk>/loss-report", methods=["POST"], roles=["platform", "operator"]
)
@blp.arguments(LossReportSchema)
@blp.response(201, CardRequestSchema)
def report_loss(data: dict[str, Any], card_pk: int) -> Any:
    """Report the card lost: a LOSS_REPORT for the next CARDREQ; the card shows "loss requested"."""
    card = db().get(Card, card_pk)
    if card is None:
        raise Problem(404, "card-not-found", "Card not found", "no card with this id", field="card_pk")
    source = card_svc.EventSource(actor=caller().name, request_id=_request_ref())
    req = card_svc.request_loss(db(), card, source=source, reason=data["reason"], at=utcnow())
    return views.card_request(req)


@blp.route("/orders/<string(maxlength=20):order_id>/cancel", methods=["POST"], roles=["platform"])
@blp.arguments(CancelOrderSchema)
@blp.response(200, CancelOrderResultSchema)
def cancel_order(data: dict[str, Any], order_id: str) -> Any:
    """Cancel an order not yet produced: withdrawn if not yet sent, else a CANCEL_ORDER request."""
    order, req = volunteer_svc.cancel_order(
        db(), order_id, at=utcnow(), actor=caller().name, reason=data["reason"], request_id=_request_ref()
    )
    return {"order": views.order(order), "request": views.card_request(req) if req else None}
