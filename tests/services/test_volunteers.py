"""Volunteer services: application, hours, approval, choices, deregistration."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from gateway.domain.errors import Conflict, Invalid, NotEligible
from gateway.domain.lifecycle import CardEventType as E
from gateway.domain.lifecycle import CardState as S
from gateway.models import CardRequest
from gateway.models.cards import OrderStatus
from gateway.services import volunteers as vs
from gateway.services.sample import jpeg
from gateway.timeutil import BEIJING
from tests.services.foundation_helpers import (
    NOW,
    application,
    drive,
    first_card,
    functions,
    official,
)


def test_application_reports_every_invalid_field(db) -> None:
    data = replace(application(mobile="123", emergency_mobile="456"), gender="F")  # the number says M
    with pytest.raises(NotEligible) as info:
        vs.create_application(db, data, actor="t", now=NOW)
    assert {(p.field, p.rule) for p in info.value.problems} == {
        ("mobile", "MOBILE"), ("emergency_mobile", "MOBILE"), ("gender", "RIC_CONSISTENCY")
    }  # fmt: skip
    assert "123" not in str(info.value)  # never a value in an error


def test_the_same_person_cannot_apply_twice(db) -> None:
    data = application()
    v = vs.create_application(db, data, actor="t", now=NOW)
    assert v.provisional_no.startswith("P") and v.volunteer_no is None
    with pytest.raises(Conflict) as info:
        vs.create_application(db, data, actor="t", now=NOW)
    assert info.value.code == "DUPLICATE_ID" and info.value.field == "id_number"
    assert [x.id for x in vs.find_by_id(db, data.id_type, data.id_number)] == [v.id]


def test_approval_needs_hours_and_lists_every_problem(db) -> None:
    v = vs.create_application(db, application(photo=None), actor="t", now=NOW)
    with pytest.raises(NotEligible) as info:
        vs.approve(db, v.provisional_no, actor="t", now=NOW)
    assert {p.rule for p in info.value.problems} == {"PHOTO", "TRAINING_HOURS", "SERVICE_HOURS"}
    assert v.status == "APPLICANT" and v.volunteer_no is None


def test_check_in_and_out_count_pre_service_minutes(db) -> None:
    v = vs.create_application(db, application(), actor="t", now=NOW)
    vs.check_in(db, v.provisional_no, at=datetime(2026, 11, 1, 1, tzinfo=UTC), actor="t")
    with pytest.raises(Conflict):
        vs.check_in(db, v.provisional_no, at=datetime(2026, 11, 1, 2, tzinfo=UTC), actor="t")
    with pytest.raises(Invalid):
        vs.check_out(db, v.provisional_no, at=datetime(2026, 11, 1, 0, tzinfo=UTC), actor="t")
    s = vs.check_out(db, v.provisional_no, at=datetime(2026, 11, 1, 6, 30, tzinfo=UTC), actor="t")
    assert s.minutes == 330 and vs.candidate(db, v).service_minutes == 330
    with pytest.raises(Conflict) as info:
        vs.check_out(db, v.provisional_no, at=datetime(2026, 11, 1, 7, tzinfo=UTC), actor="t")
    assert info.value.code == "NO_OPEN_SESSION"


def test_approval_assigns_a_new_official_number_never_reused(db) -> None:
    a = official(db)
    assert len(a.volunteer_no) == 10 and a.official_since == date(2026, 11, 28)
    assert first_card(a).order.status == OrderStatus.PENDING
    vs.deregister(db, a.volunteer_no, at=NOW, actor="t")
    with pytest.raises(Conflict):
        vs.deregister(db, a.volunteer_no, at=NOW, actor="t")
    b = official(db)
    assert int(b.volunteer_no) == int(a.volunteer_no) + 1
    assert vs.get_volunteer(db, a.volunteer_no).status == "DEREGISTERED"


def test_deregistration_effect_on_each_function(db) -> None:
    v = official(db, opt_transit=True, opt_health=True)
    card = first_card(v)
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED)
    for f in card.functions:  # the partners confirmed
        f.state = "ON"
    at = datetime(2026, 12, 1, 9, 30, tzinfo=BEIJING)
    vs.deregister(db, v.volunteer_no, at=at, actor="t")
    assert v.deregistered_at == at and v.deregistered_at.tzinfo is not None
    states = {f.function: (f.state, f.reason) for f in card.functions}
    assert states == {
        "TRANSIT": ("ON", None),  # kept
        "HEALTH": ("OFF_DUE", "DEREGISTERED"),  # SuspendCard(DEREGISTERED) due
        "INSURANCE": ("OFF", "DEREGISTERED"),
        "DONATION": ("OFF", "DEREGISTERED"),
    }
    assert card.state == S.IN_USE  # financial function kept
    # transit may still change after deregistration; the health card may not
    vs.set_opt_ins(db, v.volunteer_no, transit=False, actor="t")
    assert functions(card)["TRANSIT"] == "OFF_DUE"
    with pytest.raises(Conflict):
        vs.set_opt_ins(db, v.volunteer_no, health=True, actor="t")


def test_deregistration_cancels_orders_not_yet_produced(db) -> None:
    withdrawn = official(db)
    requested = official(db)
    first_card(requested).order.status = OrderStatus.ACKED
    vs.deregister(db, withdrawn.volunteer_no, at=NOW, actor="t")
    result = vs.deregister(db, requested.volunteer_no, at=NOW, actor="t")
    assert first_card(withdrawn).state == S.CANCELLED
    assert [r.request_type for r in result.cancel_requests] == ["CANCEL_ORDER"]
    assert first_card(requested).state == S.ORDERED  # until the bank's R07 (or "too late")
    req = db.scalar(select(CardRequest).where(CardRequest.volunteer_id == requested.id))
    assert req.status == "PENDING" and req.order_pk == first_card(requested).order_pk


def test_opt_in_while_in_use_makes_the_function_due(db) -> None:
    v = official(db, opt_transit=False, opt_health=False)
    card = first_card(v)
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED)
    assert functions(card)["TRANSIT"] == "OFF"
    vs.set_opt_ins(db, v.volunteer_no, transit=True, health=True, actor="t")
    assert functions(card)["TRANSIT"] == "ON_DUE" and functions(card)["HEALTH"] == "ON_DUE"


def test_choices_are_checked(db) -> None:
    v = vs.create_application(db, application(born=date(2010, 1, 1)), actor="t", now=NOW)
    with pytest.raises(NotEligible) as info:
        vs.set_card_choice(db, v.provisional_no, carrier="CREDIT", branch_code="99999", actor="t", now=NOW)
    assert {p.rule for p in info.value.problems} == {"CARRIER", "BRANCH"}
    vs.set_card_choice(db, v.provisional_no, branch_code="44002", actor="t", now=NOW)
    assert v.branch_code == "44002"
    with pytest.raises(NotEligible):
        vs.set_photo(db, v.provisional_no, jpeg(200, 300), actor="t")


def test_unknown_volunteer_is_a_coded_not_found(db) -> None:
    with pytest.raises(vs.NotFound) as info:
        vs.get_volunteer(db, "9999999999")
    assert info.value.code == "VOLUNTEER_NOT_FOUND" and info.value.http_status == 404


def test_guardian_recorded_for_a_volunteer_under_14(db) -> None:
    v = vs.create_application(db, application(born=date(2014, 6, 1)), actor="t", now=NOW)
    vs.record_training(db, v.provisional_no, course="basic", minutes=120, actor="t")
    vs.check_in(db, v.provisional_no, at=datetime(2026, 11, 1, 1, tzinfo=UTC), actor="t")
    vs.check_out(db, v.provisional_no, at=datetime(2026, 11, 1, 11, tzinfo=UTC), actor="t")
    with pytest.raises(NotEligible) as info:
        vs.approve(db, v.provisional_no, actor="t", now=NOW)
    assert [p.rule for p in info.value.problems] == ["GUARDIAN"]
    with pytest.raises(NotEligible):
        vs.set_guardian(db, v.provisional_no, name="王芳", mobile="1234", actor="t")
    vs.set_guardian(db, v.provisional_no, name="王芳", mobile="13700000000", actor="t")
    assert vs.approve(db, v.provisional_no, actor="t", now=NOW).status == "OFFICIAL"
