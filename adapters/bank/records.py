"""CARDORDER / CARDREQ records from domain data; CARDRESULT / CARDSTATUS records as
lifecycle events (bank.md). No I/O, no models: the exchange service feeds it plain data.

Inbound events carry their fields as wire texts (JSON-safe), so an event can be stored
with a card event or a held event and rebuilt exactly (``BankEvent.to_json`` /
``from_json``) when an operator releases it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from gateway.domain.lifecycle import CardEventType, event_for_result
from gateway.domain.personal import PersonalData
from schemas.fields import BEIJING

CARDRESULT, CARDSTATUS = "CARDRESULT", "CARDSTATUS"

#: Within one event_date, results go in the order an order lives them (bank.md).
RESULT_RANK = {"ACCEPTED": 0, "REJECTED": 1, "PRODUCED": 2, "NOTIFIED": 3}


# ------------------------------------------------------------------ outbound


@dataclass(frozen=True, kw_only=True)
class OrderLine(PersonalData):
    """One CARDORDER record, from the order and the volunteer (PII already decrypted)."""

    order_id: str
    order_type: str
    volunteer_no: str
    carrier: str
    branch_code: str
    replaces_card_id: str | None = None


def cardorder_record(line: OrderLine) -> dict[str, Any]:
    """The CARDORDER record (field names of bank.md); the photo entry is photos/<order_id>.jpg."""
    rec = asdict(line)
    rec["photo"] = f"photos/{line.order_id}.jpg"
    rec["replaces_card_id"] = line.replaces_card_id if line.order_type == "RENEW" else None
    return rec


@dataclass(frozen=True)
class RequestLine:
    request_id: str
    request_type: str  # LOSS_REPORT | CANCEL_ORDER
    volunteer_no: str
    request_time: datetime  # an instant (aware); written in Beijing time
    reason: str = ""
    card_id: str | None = None  # LOSS_REPORT
    order_id: str | None = None  # CANCEL_ORDER


def cardreq_record(line: RequestLine) -> dict[str, Any]:
    loss = line.request_type == "LOSS_REPORT"
    return {
        "request_id": line.request_id,
        "request_type": line.request_type,
        "card_id": line.card_id if loss else None,
        "order_id": None if loss else line.order_id,
        "volunteer_no": line.volunteer_no,
        # The wire has whole seconds only.
        "request_time": line.request_time.astimezone(BEIJING).replace(microsecond=0),
        "reason": line.reason or "",
    }


# ------------------------------------------------------------------ inbound


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return str(value)


@dataclass(frozen=True)
class BankEvent:
    """One CARDRESULT or CARDSTATUS record as a lifecycle event."""

    file_type: str  # CARDRESULT | CARDSTATUS
    line: int
    event: CardEventType  # the lifecycle event (REJECTED R07 is ORDER_CANCELLED)
    volunteer_no: str
    event_time: datetime  # UTC instant (CARDRESULT: Beijing midnight of event_date)
    event_date: date  # Beijing date
    order_id: str | None = None  # CARDRESULT
    card_id: str | None = None  # CARDRESULT PRODUCED/NOTIFIED, CARDSTATUS
    bank_event_id: str | None = None  # CARDSTATUS event_id
    fields: dict[str, str] = field(default_factory=dict)  # the record, as wire texts

    @property
    def result(self) -> str | None:
        """CARDRESULT's ``result`` as sent (identifies a result with ``order_id``)."""
        return self.fields.get("result") if self.file_type == CARDRESULT else None

    @property
    def payload(self) -> dict[str, str]:
        """What ``apply_event`` takes: the record's fields, blanks left out."""
        return {k: v for k, v in self.fields.items() if v != ""}

    def sort_key(self) -> tuple:
        if self.file_type == CARDRESULT:
            return (self.event_date, RESULT_RANK[self.fields["result"]], self.line)
        return (self.event_time, self.line)

    def to_json(self) -> dict[str, Any]:
        return {"file_type": self.file_type, "line": self.line, "record": dict(self.fields)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BankEvent:
        return from_fields(data["file_type"], dict(data["record"]), int(data.get("line") or 0))


def _date(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").date()


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING).astimezone(UTC)


def from_fields(file_type: str, fields: dict[str, str], line: int) -> BankEvent:
    """A BankEvent from a record's wire texts."""
    if file_type == CARDRESULT:
        day = _date(fields["event_date"])
        return BankEvent(
            CARDRESULT,
            line,
            event_for_result(fields["result"], fields.get("reason_code") or None),
            fields["volunteer_no"],
            datetime.combine(day, datetime.min.time(), BEIJING).astimezone(UTC),
            day,
            order_id=fields["order_id"],
            card_id=fields.get("card_id") or None,
            fields=fields,
        )
    if file_type == CARDSTATUS:
        instant = _instant(fields["event_time"])
        return BankEvent(
            CARDSTATUS,
            line,
            CardEventType(fields["event"]),
            fields["volunteer_no"],
            instant,
            instant.astimezone(BEIJING).date(),
            card_id=fields["card_id"],
            bank_event_id=fields["event_id"],
            fields=fields,
        )
    raise ValueError(f"{file_type} is not a bank event file")


def bank_event(file_type: str, data: Mapping[str, Any], line: int) -> BankEvent:
    """A BankEvent from a record the schemas reader passed (Python values)."""
    return from_fields(file_type, {k: _text(v) for k, v in data.items()}, line)


def in_event_order(events: Iterable[BankEvent]) -> list[BankEvent]:
    """bank.md "Order across files": records within a file in event-time order (CARDRESULT:
    event_date, then ACCEPTED < REJECTED < PRODUCED < NOTIFIED; CARDSTATUS: event_time);
    ties keep the file's line order."""
    return sorted(events, key=BankEvent.sort_key)
