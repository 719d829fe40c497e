"""Planning the health-card queue on real rows (SQLite and PostgreSQL), without the wire:
the answers are SZHC's result types, settled as ``sync`` settles them. The end-to-end
behaviour over HTTP is in tests/integration/test_health_queue.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from adapters.health.client import EnrollResult, SuspendResult
from gateway.domain.errors import Conflict
from gateway.domain.lifecycle import CardEventType as E
from gateway.models import HealthRequest
from gateway.partners.health import service as health
from gateway.services import volunteers as vs
from tests.services.foundation_helpers import drive, first_card, functions, official

NUMBER = "440300000000000123"


def collected(db):
    v = official(db)
    card = first_card(v)
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED, card_id=f"PL{v.id:014d}")
    return v, card


def enrolled(db):
    """A volunteer whose health card SZHC holds ACTIVE on their collected card."""
    v, card = collected(db)
    [req] = health.plan_requests(db)
    health.settle_enrol(db, req, EnrollResult("OK", NUMBER, None))
    return v, card, req


def in_flight(req: HealthRequest) -> None:
    req.attempts = 1  # as _claim marks a request it sends


def test_enrol_when_due_is_planned_once(db) -> None:
    v, card = collected(db)
    [req] = health.plan_requests(db)
    assert (req.action, req.card_id, req.volunteer_no, req.status) == (
        "ENROL",
        card.card_id,
        v.volunteer_no,
        "PENDING",
    )
    assert len(req.request_id) <= 32 and req.request_id.isalnum()
    assert health.plan_requests(db) == []  # idempotent


def test_unsent_enrol_is_cancelled_by_an_opt_out_and_nothing_is_suspended(db) -> None:
    v, card = collected(db)
    [req] = health.plan_requests(db)
    vs.set_opt_ins(db, v.volunteer_no, health=False, actor="test")
    assert health.plan_requests(db) == []
    assert req.status == "CANCELLED" and functions(card)["HEALTH"] == "OFF"  # SUSPEND_ONLY_ACTIVE


def test_enrol_in_flight_is_settled_before_the_suspend_it_calls_for(db) -> None:
    v, card = collected(db)
    [req] = health.plan_requests(db)
    in_flight(req)
    vs.set_opt_ins(db, v.volunteer_no, health=False, actor="test")
    assert health.plan_requests(db) == [] and req.status == "PENDING"  # ONE_AT_A_TIME
    health.settle_enrol(db, req, EnrollResult("OK", NUMBER, None))  # SZHC had applied it
    assert functions(card)["HEALTH"] == "OFF_DUE"
    [suspend] = health.plan_requests(db)
    assert (suspend.action, suspend.health_card_no, suspend.reason) == ("SUSPEND", NUMBER, "OPT_OUT")


def test_unsent_suspend_takes_the_higher_ranked_reason_that_arrives_later(db) -> None:
    v, card, _ = enrolled(db)
    vs.set_opt_ins(db, v.volunteer_no, health=False, actor="test")
    [suspend] = health.plan_requests(db)
    assert suspend.reason == "OPT_OUT"
    vs.deregister(db, v.volunteer_no, at=datetime.now(UTC), actor="test")
    assert health.plan_requests(db) == [] and suspend.reason == "DEREGISTERED"  # REASON_RANKING
    health.settle_suspend(db, suspend, SuspendResult("OK", None))
    assert functions(card)["HEALTH"] == "OFF" and health.plan_requests(db) == []


def test_opt_in_again_before_the_suspend_went_cancels_it_and_keeps_the_function_on(db) -> None:
    v, card, _ = enrolled(db)
    vs.set_opt_ins(db, v.volunteer_no, health=False, actor="test")
    [suspend] = health.plan_requests(db)
    vs.set_opt_ins(db, v.volunteer_no, health=True, actor="test")
    assert health.plan_requests(db) == []
    assert suspend.status == "CANCELLED" and functions(card)["HEALTH"] == "ON"


def test_failed_answers_wait_for_an_operator(db) -> None:
    v, card = collected(db)
    [req] = health.plan_requests(db)
    health.settle_enrol(db, req, EnrollResult("FAILED", None, "H01"))
    assert req.status == "FAILED" and health.plan_requests(db) == []  # FAILED_TO_OPERATOR
    assert health.needing_operator(db) == [req]
    again = health.retry(db, req.request_id, actor="op", note="identity corrected at SZHC")
    assert again.request_id != req.request_id and req.retried_as == again.request_id
    with pytest.raises(Conflict) as refused:
        health.retry(db, req.request_id, actor="op", note="twice")
    assert refused.value.code == "NOT_FAILED"


def test_h02_already_active_on_this_card_counts_as_success(db) -> None:
    v, card = collected(db)
    [req] = health.plan_requests(db)
    health.settle_enrol(db, req, EnrollResult("FAILED", NUMBER, "H02"))
    health_fn = next(f for f in card.functions if f.function == "HEALTH")
    assert (req.status, health_fn.state, health_fn.partner_ref) == ("DONE", "ON", NUMBER)


def test_one_open_request_per_volunteer_is_a_database_rule(db) -> None:
    v, card = collected(db)
    [req] = health.plan_requests(db)
    db.add(HealthRequest(request_id="HX1", action="ENROL", card_pk=card.id, card_id=card.card_id,
                         volunteer_id=v.id, volunteer_no=v.volunteer_no, reason="COLLECTED", status="PENDING",
                         attempts=0))  # fmt: skip
    with pytest.raises(IntegrityError):
        db.flush()
