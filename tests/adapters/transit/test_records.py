"""Pure translation of Shenzhen Tong's records (transit.md)."""

from __future__ import annotations

from datetime import date

from adapters.transit.records import TransitLine, transit_answer, transitreq_record
from schemas.recordtypes import TRANSITREQ


def test_transitreq_record_has_the_spec_fields() -> None:
    rec = transitreq_record(TransitLine("E1", "ENABLE", "CARD000000000001", "2026000001", date(2026, 12, 7)))
    assert set(rec) == set(TRANSITREQ.field_names) and rec["effective_date"] == date(2026, 12, 7)


def test_ok_and_t02_are_success_other_failures_are_not() -> None:
    def ans(result, code=None):
        return transit_answer({"request_id": "E1", "result": result, "reason_code": code,
                               "transit_account_no": None, "processed_date": date(2026, 12, 7)})  # fmt: skip

    assert ans("OK").success and ans("FAILED", "T02").success
    assert not ans("FAILED", "T01").success and not ans("FAILED", "T99").success
