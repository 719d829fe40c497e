"""Typed client of the Health Commission's health-card service (health.md).

Calls go through :class:`adapters.soap.SoapClient`: retries with the same arguments (so
the same ``requestId``), a fresh security header every attempt, and the error family of
``adapters.soap`` (``ClientFault``, ``RetryableError``, ``SecurityFault``,
``UnsafeXmlError``, ``ProtocolError``). Business answers (``OK``/``FAILED`` with a
reason code) are returned, not raised: the caller decides what ``H01``/``H03``/``H99``
mean for its queue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.soap import WSDL_DIR, ProtocolError, SoapService, aware

WSDL = WSDL_DIR / "healthcard.wsdl"
BINDING = "{urn:szhc:healthcard:v1}HealthCardBinding"
REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,32}")
SUSPEND_REASONS = ("DEREGISTERED", "CARD_DEAD", "OPT_OUT")  # health.md's order of precedence

# reasonCode values of health.md
IDENTITY_UNKNOWN = "H01"
ALREADY_ACTIVE = "H02"
UNKNOWN_HEALTH_CARD = "H03"
OTHER = "H99"


@dataclass(frozen=True)
class EnrollResult:
    result: str  # OK | FAILED
    health_card_no: str | None
    reason_code: str | None

    @property
    def succeeded(self) -> bool:
        """OK, or H02 (already active on this very card: health.md counts it as success)."""
        return self.result == "OK" or (self.reason_code == ALREADY_ACTIVE and bool(self.health_card_no))


@dataclass(frozen=True)
class SuspendResult:
    result: str  # OK | FAILED
    reason_code: str | None

    @property
    def succeeded(self) -> bool:
        return self.result == "OK"


@dataclass(frozen=True)
class HealthCardStatus:
    health_card_no: str
    status: str  # ACTIVE | SUSPENDED
    card_id: str
    since: datetime  # aware


class HealthCardPartner(Protocol):
    """What the gateway needs from SZHC. Implemented by :class:`HealthCardClient`."""

    def enroll_card(
        self, request_id: str, volunteer_no: str, id_type: str, id_number: str, name: str, card_id: str
    ) -> EnrollResult: ...

    def suspend_card(self, request_id: str, health_card_no: str, reason: str) -> SuspendResult: ...

    def query_card(self, health_card_no: str) -> HealthCardStatus: ...


class HealthCardClient(SoapService):
    """SZHC over SOAP."""

    WSDL = WSDL
    BINDING = BINDING

    def enroll_card(
        self, request_id: str, volunteer_no: str, id_type: str, id_number: str, name: str, card_id: str
    ) -> EnrollResult:
        _check_request_id(request_id)
        answer = self.soap.call(
            "EnrollCard",
            requestId=request_id,
            volunteerNo=volunteer_no,
            idType=id_type,
            idNumber=id_number,
            name=name,
            cardId=card_id,
        )
        return EnrollResult(answer["result"], answer.get("healthCardNo"), answer.get("reasonCode"))

    def suspend_card(self, request_id: str, health_card_no: str, reason: str) -> SuspendResult:
        _check_request_id(request_id)
        if reason not in SUSPEND_REASONS:
            raise ValueError(f"suspend reason must be one of {', '.join(SUSPEND_REASONS)}")
        answer = self.soap.call(
            "SuspendCard", requestId=request_id, healthCardNo=health_card_no, reason=reason
        )
        return SuspendResult(answer["result"], answer.get("reasonCode"))

    def query_card(self, health_card_no: str) -> HealthCardStatus:
        answer = self.soap.call("QueryCard", healthCardNo=health_card_no)
        since = answer.get("since")
        if not isinstance(since, datetime):
            raise ProtocolError("QueryCard: answer has no valid since", operation="QueryCard")
        return HealthCardStatus(
            answer["healthCardNo"],
            answer["status"],
            answer["cardId"],
            aware(since, operation="QueryCard", field_name="since"),
        )


def _check_request_id(request_id: str) -> None:
    if not REQUEST_ID.fullmatch(request_id):
        raise ValueError("requestId must be 1-32 characters of A-Za-z0-9- (health.md)")
