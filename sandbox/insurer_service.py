"""BOC Insurance's volunteer insurance service (insurer.md), sandbox side.

``UploadRoster`` hands the file to a pluggable ``roster_handler(file_name, content)``
returning ``(result, error_code, error_text)``: ``sandbox.insurer_roster.RosterDesk``
opens the CMS envelope with the insurer's sandbox keys and validates INSROSTER with the
schemas codec; the default (no keys at hand) only checks the name and that the content
looks like DER. A file name already uploaded gets its first answer back, never E06.

``QueryClaims`` serves seeded claims (sandbox.insurer_claims) in pages of at most 200,
ordered by (statusTime, claimNo), filtered on the Beijing date of statusTime.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime

from lxml import etree

from sandbox.insurer_claims import BEIJING, SandboxClaim, Session, seed_claims
from sandbox.soap_server import SoapFault, SoapService, child_text

NS = "urn:bocins:volunteer:v1"
PATH = "/soap/insurer"
PAGE_SIZE = 200
ROSTER_NAME = re.compile(r"INSROSTER_SVA_(\d{8})_(\d{3})\.txt\.p7m")
_XS_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:Z|[+-][0-9]{2}:[0-9]{2})?")

RosterHandler = Callable[[str, bytes], tuple[str, str | None, str | None]]


def default_roster_handler(file_name: str, content: bytes) -> tuple[str, str | None, str | None]:
    """Stand-in until the keys/schemas packages are wired: DER shape, then name only,
    in README's order (E01 before E04)."""
    if not content or content[0] != 0x30:  # a DER SEQUENCE, as every CMS ContentInfo is
        return "REJECTED", "E01", "not a CMS envelope"
    if not ROSTER_NAME.fullmatch(file_name):
        return "REJECTED", "E04", "file name is not INSROSTER_SVA_<date>_<seq>.txt.p7m"
    return "ACCEPTED", None, None


class InsurerService(SoapService):
    """Sandbox insurer. ``sessions`` maps volunteer_no to their service sessions
    (check-in, check-out or None), from which :func:`seed_claims` builds the claims."""

    namespace = NS
    path = PATH
    wsdl = "insurer.wsdl"
    huge_text = True  # insurer.md: messages of up to 256 MB

    def __init__(
        self,
        users: Mapping[str, str],
        *,
        seed: int = 0,
        sessions: Mapping[str, Sequence[Session]] | None = None,
        roster_handler: RosterHandler = default_roster_handler,
        page_size: int = PAGE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(users, clock=clock)
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValueError("page_size must be 1..200 (insurer.md)")
        self.roster_handler = roster_handler
        self.page_size = page_size
        self.claims: list[SandboxClaim] = seed_claims(seed, sessions or {})
        self.rosters: dict[str, tuple[etree._Element, bytes]] = {}  # fileName -> (answer, content)
        self.applied: Counter[str] = Counter()  # fileName -> times it was processed
        self._roster_seq = 0
        self._state = threading.Lock()

    def add_claims(self, claims: Iterable[SandboxClaim]) -> None:
        with self._state:
            self.claims.extend(claims)

    def operations(self) -> Mapping[str, Callable[[etree._Element], etree._Element]]:
        return {"UploadRoster": self._upload, "QueryClaims": self._query}

    # -- UploadRoster ----------------------------------------------------------------------

    def _upload(self, body: etree._Element) -> etree._Element:
        file_name = child_text(body, NS, "fileName")
        encoded = child_text(body, NS, "content")
        try:
            content = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            raise SoapFault("Client", "content is not base64") from None
        with self._state:
            first = self.rosters.get(file_name)
            if first is not None:
                return first[0]
            result, code, text = self.roster_handler(file_name, content)
            self._roster_seq += 1
            today = datetime.fromtimestamp(self.clock(), BEIJING).strftime("%Y%m%d")
            answer = self.element(
                "UploadRosterResponse",
                [
                    ("result", result),
                    ("errorCode", code),
                    ("errorText", text),
                    ("rosterId", f"R{today}{self._roster_seq:05d}"),
                ],
            )
            self.rosters[file_name] = (answer, content)
            self.applied[file_name] += 1
            return answer

    # -- QueryClaims -----------------------------------------------------------------------

    def _query(self, body: etree._Element) -> etree._Element:
        volunteer_no = child_text(body, NS, "volunteerNo", required=False)
        claim_no = child_text(body, NS, "claimNo", required=False)
        from_date = _date(child_text(body, NS, "fromDate", required=False), "fromDate")
        to_date = _date(child_text(body, NS, "toDate", required=False), "toDate")
        token = child_text(body, NS, "pageToken", required=False)
        if from_date and to_date and from_date > to_date:
            raise SoapFault("Client", "fromDate is after toDate")
        filters = f"{volunteer_no}|{claim_no}|{from_date}|{to_date}"
        offset = _read_token(token, filters) if token else 0
        with self._state:
            matching = sorted(
                (
                    c
                    for c in self.claims
                    if (volunteer_no is None or c.volunteer_no == volunteer_no)
                    and (claim_no is None or c.claim_no == claim_no)
                    and (from_date is None or c.status_time.astimezone(BEIJING).date() >= from_date)
                    and (to_date is None or c.status_time.astimezone(BEIJING).date() <= to_date)
                ),
                key=lambda c: (c.status_time, c.claim_no),
            )
        page = matching[offset : offset + self.page_size]
        answer = etree.Element(f"{{{NS}}}QueryClaimsResponse", nsmap={"tns": NS})
        for claim in page:
            answer.append(self._claim_element(claim))
        if offset + self.page_size < len(matching):
            etree.SubElement(answer, f"{{{NS}}}nextPageToken").text = _make_token(
                offset + self.page_size, filters
            )
        return answer

    def _claim_element(self, c: SandboxClaim) -> etree._Element:
        el = self.element(
            "claim",
            [
                ("claimNo", c.claim_no),
                ("volunteerNo", c.volunteer_no),
                ("incidentTime", c.incident_time.astimezone(BEIJING).isoformat()),
                ("category", c.category),
                ("disabilityGrade", c.disability_grade),
                ("claimedFen", c.claimed_fen),
                ("approvedFen", c.approved_fen),
                ("paidFen", c.paid_fen),
                ("status", c.status),
                ("statusTime", c.status_time.astimezone(BEIJING).isoformat()),
                ("rejectReason", c.reject_reason),
            ],
        )
        return el


def _date(text: str | None, field: str) -> date | None:
    """The day of an xs:date the schema already passed. The whole text must match (no
    junk after the day); a zone is allowed and ignored, the day is what counts. Years the
    schema allows but no claim can have (0000, negative, five digits) are refused."""
    if text is None:
        return None
    m = _XS_DATE.fullmatch(text)
    try:
        if m is None:
            raise ValueError(field)
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise SoapFault("Client", f"element {field}: not an xs:date YYYY-MM-DD, year 0001-9999") from None


def _fingerprint(filters: str) -> str:
    return hashlib.sha256(filters.encode()).hexdigest()[:16]


def _make_token(offset: int, filters: str) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{_fingerprint(filters)}".encode()).decode()


def _read_token(token: str, filters: str) -> int:
    try:
        offset_text, fingerprint = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        offset = int(offset_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise SoapFault("Client", "pageToken is not one this service gave") from None
    if fingerprint != _fingerprint(filters) or offset < 0:
        raise SoapFault("Client", "pageToken belongs to other filters; send the same filters")
    return offset
