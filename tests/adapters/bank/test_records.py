"""Pure translation of the bank's records (bank.md): outbound records from domain data,
inbound records as lifecycle events in "Order across files" order."""

from __future__ import annotations

from datetime import UTC, date, datetime

from adapters.bank.records import (
    BankEvent,
    OrderLine,
    RequestLine,
    bank_event,
    cardorder_record,
    cardreq_record,
    in_event_order,
)
from gateway.domain.lifecycle import CardEventType as E
from schemas.recordtypes import CARDORDER, CARDREQ


def _order(**kw) -> OrderLine:
    base = dict(
        order_id="N1", order_type="NEW", volunteer_no="2026000001", name="张伟", id_type="RIC",
        id_number="44030919900517001X", gender="M", birth_date=date(1990, 5, 17), mobile="13812345678",
        address="深圳市深南大道1号", emergency_name="李娜", emergency_mobile="13912345678", carrier="DEBIT",
        branch_code="44001",
    )  # fmt: skip
    base.update(kw)
    return OrderLine(**base)


def test_cardorder_record_has_exactly_the_spec_fields_and_names_its_photo() -> None:
    rec = cardorder_record(_order())
    assert set(rec) == set(CARDORDER.field_names)
    assert rec["photo"] == "photos/N1.jpg" and rec["replaces_card_id"] is None


def test_replaces_card_id_only_for_renew() -> None:
    assert (
        cardorder_record(_order(order_type="RENEW", replaces_card_id="CARD000000000001"))["replaces_card_id"]
        == "CARD000000000001"
    )
    assert cardorder_record(_order(replaces_card_id="CARD000000000001"))["replaces_card_id"] is None


def test_cardreq_record_writes_request_time_in_beijing_whole_seconds() -> None:
    line = RequestLine("L1", "LOSS_REPORT", "2026000001", datetime(2026, 12, 6, 17, 30, 5, 123, tzinfo=UTC),
                       "lost", card_id="CARD000000000001", order_id="N1")  # fmt: skip
    rec = cardreq_record(line)
    assert set(rec) == set(CARDREQ.field_names)
    assert rec["request_time"].isoformat() == "2026-12-07T01:30:05+08:00"
    assert rec["order_id"] is None and rec["card_id"] == "CARD000000000001"


def _result(line: int, result: str, day: date, reason: str | None = None) -> BankEvent:
    data = {"order_id": "N1", "volunteer_no": "2026000001", "result": result, "reason_code": reason,
            "reason_text": "", "card_id": None, "masked_pan": None, "expiry": None,
            "branch_code": "44001", "event_date": day}  # fmt: skip
    return bank_event("CARDRESULT", data, line)


def test_results_sort_by_event_date_then_lifecycle_order() -> None:
    d1, d2 = date(2026, 12, 4), date(2026, 12, 7)
    events = [_result(2, "NOTIFIED", d2), _result(3, "PRODUCED", d1), _result(4, "ACCEPTED", d1)]
    assert [e.result for e in in_event_order(events)] == ["ACCEPTED", "PRODUCED", "NOTIFIED"]


def test_rejected_r07_is_a_cancellation_and_blank_fields_are_left_out() -> None:
    ev = _result(2, "REJECTED", date(2026, 12, 4), "R07")
    assert ev.event is E.ORDER_CANCELLED and ev.result == "REJECTED"
    assert "card_id" not in ev.payload and ev.payload["reason_code"] == "R07"
    assert ev.event_time == datetime(2026, 12, 3, 16, tzinfo=UTC)  # Beijing midnight


def test_status_events_sort_by_event_time_and_survive_a_json_round_trip() -> None:
    def st(line: int, hour: int) -> BankEvent:
        data = {"event_id": f"E{line}", "card_id": "CARD000000000001", "volunteer_no": "2026000001",
                "event": "COLLECTED", "event_time": datetime(2026, 12, 5, hour), "channel": "BRANCH",
                "new_card_id": None, "new_masked_pan": None, "new_expiry": None, "detail": ""}  # fmt: skip
        return bank_event("CARDSTATUS", data, line)

    a, b = st(2, 18), st(3, 9)
    assert in_event_order([a, b]) == [b, a]
    assert b.event_time == datetime(2026, 12, 5, 1, tzinfo=UTC) and b.event_date == date(2026, 12, 5)
    assert BankEvent.from_json(b.to_json()) == b and b.bank_event_id == "E3"
