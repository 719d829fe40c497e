"""TRANSITREQ records from requests; TRANSITACK records as answers (transit.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

#: transit.md: "T02 counts as success" (already in that state).
ALREADY_IN_STATE = "T02"


@dataclass(frozen=True)
class TransitLine:
    request_id: str
    action: str  # ENABLE | DISABLE
    card_id: str
    volunteer_no: str
    effective_date: date


def transitreq_record(line: TransitLine) -> dict[str, Any]:
    return {
        "request_id": line.request_id,
        "action": line.action,
        "card_id": line.card_id,
        "volunteer_no": line.volunteer_no,
        "effective_date": line.effective_date,
    }


@dataclass(frozen=True)
class TransitAnswer:
    request_id: str
    result: str  # OK | FAILED
    reason_code: str | None
    transit_account_no: str | None
    processed_date: date
    line: int = 0

    @property
    def success(self) -> bool:
        """OK, or FAILED T02 (already in that state), which counts as success."""
        return self.result == "OK" or self.reason_code == ALREADY_IN_STATE

    def same_as(self, result: str | None, reason_code: str | None, account: str | None) -> bool:
        return (self.result, self.reason_code, self.transit_account_no) == (result, reason_code, account)


def transit_answer(data: Mapping[str, Any], line: int = 0) -> TransitAnswer:
    return TransitAnswer(
        data["request_id"],
        data["result"],
        data.get("reason_code") or None,
        data.get("transit_account_no") or None,
        data["processed_date"],
        line,
    )


def account_problem(action: str, answer: TransitAnswer) -> tuple[str, str] | None:
    """transit.md, TRANSITACK field 4: 12 digits on an ``OK`` to an ``ENABLE``, blank
    otherwise (``T02`` included). The schema checks the digits and FAILED; this half needs
    the request's action. (field, reason) when broken."""
    if action == "ENABLE" and answer.result == "OK" and not answer.transit_account_no:
        return "transit_account_no", "required on an OK to an ENABLE"
    if action != "ENABLE" and answer.transit_account_no:
        return "transit_account_no", "only on an OK to an ENABLE"
    return None
