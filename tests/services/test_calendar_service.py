"""Calendar in the database: seeding, operator loads, provisional due dates recomputed,
and the service-level and pickup queries."""

from __future__ import annotations

from datetime import date

from gateway.domain.calendar import CalendarRow
from gateway.domain.lifecycle import CardEventType as E
from gateway.services import calendar as cal_service
from gateway.services import card_queries as q
from gateway.services import cards as cs
from tests.services.foundation_helpers import SRC, drive, first_card, official


def test_seed_takes_published_years_only_and_never_overwrites_an_operator_load(db) -> None:
    cal_service.load_year(
        db, 2025, [CalendarRow(date(2025, 1, 1), False, "New Year")], source="file x", actor="op"
    )
    seeded = cal_service.seed_from_holidays(db, range(2024, 2028))
    assert seeded == [2024, 2026]  # 2025 was loaded by an operator; 2027 is not published in holidays
    cal = cal_service.working_calendar(db)
    assert cal.is_loaded(2026) and not cal.is_loaded(2027)
    assert cal.is_working(date(2025, 1, 28))  # the operator's 2025 says only New Year's Day is off
    assert cal_service.summary(db, 2027).loaded is False


def test_due_dates_provisional_until_the_year_is_loaded_then_recomputed(db) -> None:
    cal_service.seed_from_holidays(db, [2026])
    order = first_card(official(db)).order
    cal_service.set_day0(db, order, date(2026, 12, 21))
    # 22,23,24,25, 28,29,30,31 Dec, then 2027 weekdays (not loaded): 1 Jan counts
    assert (order.produced_due, order.due_provisional) == (date(2027, 1, 11), True)
    rows = [CalendarRow(date(2027, 1, 1), False, "元旦")]
    changed = cal_service.load_year(db, 2027, rows, source="file cal2027.csv", actor="op")
    assert changed == 1
    assert (order.produced_due, order.due_provisional) == (date(2027, 1, 12), False)
    assert order.status == "ACKED" and order.day0 == date(2026, 12, 21)


def test_overdue_and_due_soon_orders(db) -> None:
    cal_service.seed_from_holidays(db, [2026])
    late = first_card(official(db)).order
    soon = first_card(official(db)).order
    done = first_card(official(db)).order
    for o, day0 in ((late, date(2026, 9, 28)), (soon, date(2026, 10, 19)), (done, date(2026, 9, 28))):
        cal_service.set_day0(db, o, day0)
    drive(db, done.card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED)
    today = date(2026, 11, 6)  # late: PRODUCED due 23 Oct, NOTIFIED due 30 Oct; soon: PRODUCED due 9 Nov
    overdue = q.overdue_orders(db, today)
    assert [(o.order_id, o.result, o.due) for o in overdue] == [
        (late.order_id, "PRODUCED", date(2026, 10, 23)),
        (late.order_id, "NOTIFIED", date(2026, 10, 30)),
    ]
    soon_rows = q.due_soon_orders(db, today)
    assert [(o.order_id, o.result, o.due) for o in soon_rows] == [
        (soon.order_id, "PRODUCED", date(2026, 11, 9))
    ]
    drive(db, soon.card, E.ACCEPTED, E.PRODUCED, card_id="CARD000000000002")
    assert q.due_soon_orders(db, today) == []


def test_at_risk_cards(db) -> None:
    card = first_card(official(db))
    drive(db, card, E.ACCEPTED, E.PRODUCED)
    cs.apply_event(
        db,
        card,
        E.NOTIFIED,
        event_time=cs.beijing_midnight(date(2026, 8, 31)),
        source=SRC,
        payload={"card_id": "CARD000000000001"},
    )
    assert card.pickup_deadline == date(2027, 2, 28)
    assert q.at_risk_cards(db, date(2027, 1, 28)) == []
    (risk,) = q.at_risk_cards(db, date(2027, 1, 29))
    assert (risk.card_id, risk.days_left) == ("CARD000000000001", 30)
    assert q.at_risk_cards(db, date(2027, 2, 28))[0].days_left == 0
    drive(db, card, E.COLLECTED)
    assert q.at_risk_cards(db, date(2027, 2, 1)) == []


def test_pipeline_counts_every_state(db) -> None:
    drive(db, first_card(official(db)), E.ACCEPTED)
    official(db)
    p = q.pipeline(db)
    assert p.cards["ORDERED"] == 1 and p.cards["ACCEPTED"] == 1 and p.cards["LOST"] == 0
    assert p.orders == {"PENDING": 2}
