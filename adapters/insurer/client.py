"""Typed client of BOC Insurance's volunteer insurance service (insurer.md).

Errors are those of ``adapters.soap``. ``UploadRoster`` answers (ACCEPTED / PARTIAL /
REJECTED with ACK codes) are returned, not raised. ``query_claims`` follows
``nextPageToken`` with the same filters until the last page and returns every claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from adapters.soap import WSDL_DIR, ProtocolError, SoapService, aware

WSDL = WSDL_DIR / "insurer.wsdl"
BINDING = "{urn:bocins:volunteer:v1}VolunteerInsuranceBinding"
MAX_PAGES = 100_000  # a guard against a partner that never stops paging


@dataclass(frozen=True)
class RosterAnswer:
    result: str  # ACCEPTED | PARTIAL | REJECTED
    error_code: str | None
    error_text: str | None
    roster_id: str | None


@dataclass(frozen=True)
class Claim:
    """A claim exactly as the insurer states it (figures in fen, times aware)."""

    claim_no: str
    volunteer_no: str
    incident_time: datetime
    category: str  # DEATH | DISABILITY | MEDICAL
    disability_grade: int | None
    claimed_fen: int
    approved_fen: int | None
    paid_fen: int | None
    status: str  # REPORTED | UNDER_REVIEW | APPROVED | PAID | REJECTED | WITHDRAWN
    status_time: datetime
    reject_reason: str | None


class InsurerPartner(Protocol):
    """What the gateway needs from BOCINS. Implemented by :class:`InsurerClient`."""

    def upload_roster(self, file_name: str, content: bytes) -> RosterAnswer: ...

    def query_claims(
        self,
        *,
        volunteer_no: str | None = None,
        claim_no: str | None = None,
        from_date: date | None = None,
        to_date: date | None = None,
    ) -> list[Claim]: ...


class InsurerClient(SoapService):
    """BOCINS over SOAP."""

    WSDL = WSDL
    BINDING = BINDING

    def upload_roster(self, file_name: str, content: bytes) -> RosterAnswer:
        """Send the sealed INSROSTER (``.txt.p7m`` bytes); zeep base64-encodes it."""
        answer = self.soap.call("UploadRoster", fileName=file_name, content=content)
        return RosterAnswer(
            answer["result"], answer.get("errorCode"), answer.get("errorText"), answer.get("rosterId")
        )

    def query_claims(
        self,
        *,
        volunteer_no: str | None = None,
        claim_no: str | None = None,
        from_date: date | None = None,
        to_date: date | None = None,
    ) -> list[Claim]:
        """Every matching claim, over as many pages as the insurer gives.

        ``from_date``/``to_date`` filter on the Beijing date of ``statusTime``, inclusive.
        """
        filters: dict[str, Any] = {
            k: v
            for k, v in (
                ("volunteerNo", volunteer_no),
                ("claimNo", claim_no),
                ("fromDate", from_date),
                ("toDate", to_date),
            )
            if v is not None
        }
        claims: list[Claim] = []
        token: str | None = None
        seen_tokens: set[str] = set()
        for _ in range(MAX_PAGES):
            answer = self.soap.call("QueryClaims", **filters, **({"pageToken": token} if token else {}))
            claims.extend(_claim(raw) for raw in answer.get("claim") or [])
            token = answer.get("nextPageToken")
            if not token:
                return claims
            if token in seen_tokens:
                raise ProtocolError(
                    "QueryClaims: the insurer sent the same nextPageToken twice", operation="QueryClaims"
                )
            seen_tokens.add(token)
        raise ProtocolError(f"QueryClaims: more than {MAX_PAGES} pages", operation="QueryClaims")


def _claim(raw: dict[str, Any]) -> Claim:
    def when(name: str) -> datetime:
        value = raw.get(name)
        if not isinstance(value, datetime):
            raise ProtocolError(
                f"QueryClaims: claim {raw.get('claimNo')} has no valid {name}", operation="QueryClaims"
            )
        return aware(value, operation="QueryClaims", field_name=name)

    return Claim(
        claim_no=raw["claimNo"],
        volunteer_no=raw["volunteerNo"],
        incident_time=when("incidentTime"),
        category=raw["category"],
        disability_grade=raw.get("disabilityGrade"),
        claimed_fen=raw["claimedFen"],
        approved_fen=raw.get("approvedFen"),
        paid_fen=raw.get("paidFen"),
        status=raw["status"],
        status_time=when("statusTime"),
        reject_reason=raw.get("rejectReason"),
    )
