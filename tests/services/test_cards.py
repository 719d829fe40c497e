"""Card service: events applied to real rows (SQLite and PostgreSQL): inferences, the
immutable event log, function states, renewals, reissues, held events, loss reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.domain.errors import Conflict
from gateway.domain.lifecycle import CardEventType as E
from gateway.domain.lifecycle import CardState as S
from gateway.domain.lifecycle import LifecycleError, event_for_result
from gateway.models import CardEvent, Order
from gateway.models.cards import HeldStatus, OrderStatus, RequestStatus
from gateway.services import cards as cs
from gateway.services import volunteers as vs
from tests.services.foundation_helpers import (
    NOW,
    SRC,
    drive,
    first_card,
    functions,
    official,
)


def test_collection_switches_on_opted_in_functions_and_logs_every_event(db) -> None:
    v = official(db, opt_transit=True, opt_health=False)
    card = first_card(v)
    assert card.state == S.ORDERED and card.order.status == OrderStatus.PENDING
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED)
    assert card.state == S.IN_USE and card.card_id == "CARD000000000001"
    assert functions(card) == {"TRANSIT": "ON_DUE", "HEALTH": "OFF", "INSURANCE": "ON", "DONATION": "ON"}
    events = db.scalars(select(CardEvent).where(CardEvent.card_pk == card.id).order_by(CardEvent.id)).all()
    assert [e.event for e in events] == ["CREATED", "ACCEPTED", "PRODUCED", "NOTIFIED", "COLLECTED"]
    assert events[-1].source_file == SRC.source_file and events[-1].source_line == 2
    assert events[-1].from_state == "NOTIFIED" and events[-1].to_state == "IN_USE"
    assert card.order.status == OrderStatus.CLOSED and card.pickup_deadline is not None


def test_event_that_does_not_fit_changes_nothing(db) -> None:
    card = first_card(official(db))
    drive(db, card, E.ACCEPTED)
    before = db.scalar(select(CardEvent.id).order_by(CardEvent.id.desc()).limit(1))
    with pytest.raises(LifecycleError) as info:
        cs.apply_event(db, card, E.COLLECTED, event_time=NOW, source=SRC)
    assert info.value.code == "EVENT_NOT_ALLOWED" and info.value.current_state == S.ACCEPTED
    assert card.state == S.ACCEPTED
    assert db.scalar(select(CardEvent.id).order_by(CardEvent.id.desc()).limit(1)) == before


def test_card_events_are_append_only(db) -> None:
    card = first_card(official(db))
    row = db.scalars(select(CardEvent).where(CardEvent.card_pk == card.id)).first()
    row.actor = "someone else"
    with pytest.raises(RuntimeError, match="append-only"):
        db.flush()


def test_inferences_recorded_first_and_completed_by_the_bank(db) -> None:
    card = first_card(official(db))
    # PRODUCED before ACCEPTED: ACCEPTED inferred; Saturday COLLECTED before Friday's NOTIFIED.
    drive(db, card, E.PRODUCED, E.COLLECTED)
    rows = db.scalars(select(CardEvent).where(CardEvent.card_pk == card.id).order_by(CardEvent.id)).all()
    assert [(r.event, r.inferred) for r in rows[1:]] == [
        ("ACCEPTED", True), ("PRODUCED", False), ("NOTIFIED", True), ("COLLECTED", False)
    ]  # fmt: skip
    assert card.state == S.IN_USE and card.notified_inferred
    friday = NOW - timedelta(days=1)
    applied = cs.apply_event(
        db, card, E.NOTIFIED, event_time=friday, source=SRC, payload={"card_id": card.card_id}
    )
    assert applied.completed and card.state == S.IN_USE and not card.notified_inferred
    assert card.order.notified_on == friday.date()
    assert applied.events[0].completes_pk == rows[3].id


def test_resent_bank_event_id_changes_nothing(db) -> None:
    card = first_card(official(db))
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED)
    first = cs.apply_event(db, card, E.COLLECTED, event_time=NOW, source=SRC, bank_event_id="EV1")
    again = cs.apply_event(db, card, E.COLLECTED, event_time=NOW, source=SRC, bank_event_id="EV1")
    assert not first.duplicate and again.duplicate and again.events == []


@pytest.mark.parametrize("death", [E.LOST_REPORTED, E.DAMAGED_REPORTED, E.EXPIRED, E.ACCOUNT_CLOSED])
def test_death_switches_functions_off(db, death) -> None:
    card = first_card(official(db))
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED, death)
    assert functions(card) == {
        "TRANSIT": "OFF_DUE",
        "HEALTH": "OFF_DUE",
        "INSURANCE": "OFF",
        "DONATION": "OFF",
    }
    assert {f.reason for f in card.functions} == {"CARD_DEAD"} and card.dead_at is not None


def test_reissue_creates_a_card_waiting_at_the_same_branch(db) -> None:
    v = official(db)
    card = first_card(v)
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED, E.LOST_REPORTED)
    when = datetime(2026, 8, 31, 20, tzinfo=UTC)  # 1 September in Beijing
    applied = cs.apply_event(
        db, card, E.REISSUED, event_time=when, source=SRC,
        payload={"new_card_id": "CARD000000000002", "new_masked_pan": "621785******0456", "new_expiry": "203108"},
    )  # fmt: skip
    new = applied.new_card
    assert card.state == S.REISSUED and card.replaced_by_pk == new.id
    assert new.state == S.NOTIFIED and new.branch_code == card.branch_code and new.replaces_pk == card.id
    assert new.card_id == "CARD000000000002" and new.notified_on.isoformat() == "2026-09-01"
    assert new.pickup_deadline.isoformat() == "2027-03-01"
    drive(db, new, E.COLLECTED)
    assert new.state == S.IN_USE and functions(new)["TRANSIT"] == "ON_DUE"


def test_credit_cut_closed_is_never_reissued_and_blocks_orders(db) -> None:
    v = official(db, carrier="CREDIT")
    card = first_card(v)
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.CUT_CLOSED)
    with pytest.raises(LifecycleError) as info:
        cs.apply_event(db, card, E.REISSUED, event_time=NOW, source=SRC, payload={"new_card_id": "X" * 16})
    assert info.value.code == "CREDIT_NEVER_REISSUED"
    with pytest.raises(Conflict) as refused:
        vs.order_new_card(db, v.volunteer_no, actor="op", carrier="DEBIT", reason="")
    assert refused.value.code == "CREDIT_CUT_CLOSED"
    order = vs.order_new_card(
        db, v.volunteer_no, actor="op", carrier="DEBIT", reason="volunteer asked at branch"
    )
    assert order.carrier == "DEBIT" and order.reason == "volunteer asked at branch"


def test_renewal_one_order_then_replaces_the_old_card_and_moves_functions(db) -> None:
    v = official(db)
    old = first_card(v)
    drive(db, old, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED)
    applied = cs.apply_event(db, old, E.EXPIRING, event_time=NOW, source=SRC)
    again = cs.apply_event(db, old, E.EXPIRING, event_time=NOW, source=SRC)
    assert (
        applied.new_card is not None and again.new_card is None and again.notes[0].startswith("RENEW_EXISTS")
    )
    renewal = applied.new_card
    assert renewal.order.order_type == "RENEW" and renewal.replaces_pk == old.id
    drive(db, renewal, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, card_id="CARD000000000009")
    drive(db, renewal, E.COLLECTED)
    assert old.state == S.REPLACED and old.replaced_by_pk == renewal.id
    assert functions(old) == {"TRANSIT": "OFF_DUE", "HEALTH": "OFF", "INSURANCE": "OFF", "DONATION": "OFF"}
    assert functions(renewal) == {
        "TRANSIT": "ON_DUE",
        "HEALTH": "ON_DUE",
        "INSURANCE": "ON",
        "DONATION": "ON",
    }


def test_renewal_cancelled_when_the_old_card_dies_before_production(db) -> None:
    v = official(db)
    old = first_card(v)
    drive(db, old, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED, E.EXPIRING)
    renewal = cs.open_renewal(db, old).card
    drive(db, old, E.LOST_REPORTED)
    assert (
        renewal.state == S.CANCELLED and renewal.order.status == OrderStatus.CLOSED
    )  # never sent: withdrawn


def test_no_renewal_for_a_deregistered_volunteer(db) -> None:
    v = official(db)
    card = first_card(v)
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED)
    vs.deregister(db, v.volunteer_no, at=NOW, actor="test")
    applied = cs.apply_event(db, card, E.EXPIRING, event_time=NOW, source=SRC)
    assert applied.new_card is None and card.state == S.IN_USE


def test_loss_report_request_and_marker_closed_by_lost_reported(db) -> None:
    v = official(db)
    card = first_card(v)
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED)
    req = vs.report_loss(db, v.volunteer_no, at=NOW, actor="platform", reason="lost on the metro")
    assert (
        req.request_type == "LOSS_REPORT" and req.status == RequestStatus.PENDING and card.loss_requested_at
    )
    assert vs.report_loss(db, v.volunteer_no, at=NOW, actor="platform").id == req.id  # no second request
    drive(db, card, E.LOST_REPORTED, when=NOW + timedelta(hours=1))
    assert req.status == RequestStatus.CLOSED and card.state == S.LOST


def test_cancel_order_withdrawn_before_sending_or_requested_after(db) -> None:
    v = official(db)
    order = first_card(v).order
    _, req = vs.cancel_order(db, order.order_id, at=NOW, actor="op")
    assert req is None and order.card.state == S.CANCELLED and order.status == OrderStatus.CLOSED
    order2 = vs.order_new_card(db, v.volunteer_no, actor="op")
    order2.status = OrderStatus.ACKED  # the bank has it
    _, req2 = vs.cancel_order(db, order2.order_id, at=NOW, actor="op")
    assert req2.request_type == "CANCEL_ORDER" and req2.order_pk == order2.id
    drive(db, order2.card, E.ACCEPTED, E.PRODUCED)  # too late: goes on to pickup
    assert req2.status == RequestStatus.TOO_LATE
    with pytest.raises(Conflict) as info:
        vs.cancel_order(db, order2.order_id, at=NOW, actor="op")
    assert info.value.code == "ORDER_NOT_CANCELLABLE"


def test_r07_rejection_cancels_and_closes_the_request(db) -> None:
    v = official(db)
    order = first_card(v).order
    order.status = OrderStatus.ACKED
    _, req = vs.cancel_order(db, order.order_id, at=NOW, actor="op")
    cs.apply_event(
        db,
        order.card,
        event_for_result("REJECTED", "R07"),
        event_time=NOW,
        source=SRC,
        payload={"reason_code": "R07"},
    )
    assert (
        order.card.state == S.CANCELLED and req.status == RequestStatus.CLOSED and order.reject_code == "R07"
    )


def test_held_event_blocks_later_events_until_resolved(db) -> None:
    card = first_card(official(db))
    held = cs.hold_event(
        db,
        card=card,
        card_id=None,
        event="COLLECTED",
        event_time=NOW,
        source=SRC,
        payload={"event_id": "E1"},
        reason_code="CARD_DEAD",
        reason="COLLECTED for a dead card",
    )
    assert cs.has_held_events(db, card)
    cs.resolve_held(db, held, status=HeldStatus.DISCARDED, actor="op", note="duplicate")
    assert not cs.has_held_events(db, card)


def test_a_second_new_order_is_refused_while_a_card_lives(db) -> None:
    v = official(db)
    with pytest.raises(Conflict) as info:
        vs.order_new_card(db, v.volunteer_no, actor="op")
    assert info.value.code == "HAS_LIVE_CARD"
    assert db.scalar(select(Order.id).where(Order.volunteer_id == v.id).offset(1)) is None


def test_order_on_the_wire_sent_record_error_requeued(db) -> None:
    order = first_card(official(db)).order
    cs.mark_sent(db, [order], file_name="CARDORDER_SVA_20261128_001.zip.p7m", at=NOW)
    assert order.status == OrderStatus.SENT and order.sent_at == NOW
    cs.mark_record_error(db, order, error="line:2:mobile:not a mainland mobile")
    assert order.status == OrderStatus.RECORD_ERROR and order.card.state == S.ORDERED and order.day0 is None
    cs.requeue_order(db, order, actor="op")
    assert order.status == OrderStatus.PENDING
    with pytest.raises(Conflict):
        cs.requeue_order(db, order, actor="op")


def test_bank_accepted_completes_an_inferred_accepted(db) -> None:
    card = first_card(official(db))
    drive(db, card, E.PRODUCED)
    applied = cs.apply_event(db, card, E.ACCEPTED, event_time=NOW - timedelta(days=3), source=SRC)
    assert applied.completed and card.state == S.PRODUCED
    assert card.order.accepted_on == (NOW - timedelta(days=3)).date()
    with pytest.raises(LifecycleError):  # a second ACCEPTED is no completion: the exchange compares or holds
        cs.apply_event(db, card, E.ACCEPTED, event_time=NOW, source=SRC)
    assert cs.recorded_result(db, card, "ACCEPTED").id == applied.events[0].id


def test_rejection_closes_the_order_with_its_reason(db) -> None:
    v = official(db)
    card = first_card(v)
    cs.apply_event(db, card, E.REJECTED, event_time=NOW, source=SRC,
                   payload={"reason_code": "R02", "reason_text": "photo unusable"})  # fmt: skip
    assert card.state == S.REJECTED and card.order.status == OrderStatus.CLOSED
    assert (card.order.reject_code, card.order.reject_text) == ("R02", "photo unusable")
    again = vs.order_new_card(db, v.volunteer_no, actor="op", reason="new photo")  # the operator orders again
    assert again.card.state == S.ORDERED and again.order_id != card.order.order_id


def test_debit_cut_closed_may_be_reissued(db) -> None:
    card = first_card(official(db))
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.CUT_CLOSED)
    applied = cs.apply_event(
        db, card, E.REISSUED, event_time=NOW, source=SRC, payload={"new_card_id": "CARD000000000003"}
    )
    assert card.state == S.REISSUED and applied.new_card.state == S.NOTIFIED


def test_old_card_expiring_after_its_renewal_was_collected_is_recorded_not_held(db) -> None:
    # bank.md 6: "EXPIRED without a collected renewal -> dead". With a collected renewal
    # the old card is already replaced; the bank's EXPIRED for it is the expected end of
    # its story, recorded without a change, not an event that makes no sense.
    v = official(db, opt_transit=True, opt_health=True)
    old = first_card(v)
    drive(db, old, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED, E.EXPIRING)
    renewal = cs.open_renewal(db, old).card
    drive(db, renewal, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED, card_id="CARD000000000009")
    before = functions(old), functions(renewal)
    applied = cs.apply_event(db, old, E.EXPIRED, event_time=NOW + timedelta(days=40), source=SRC)
    assert old.state == S.REPLACED and renewal.state == S.IN_USE
    assert [(e.event, e.from_state, e.to_state) for e in applied.events] == [
        ("EXPIRED", "REPLACED", "REPLACED")
    ]
    assert (functions(old), functions(renewal)) == before
