"""The Health Commission's citizen health-card service (health.md), sandbox side.

One health card per person for life, keyed by (idType, idNumber). EnrollCard moves it
to the new card and makes it ACTIVE; SuspendCard suspends it; QueryCard reports it. A
repeated ``requestId`` gets the first answer (OK / FAILED only; faults are never
remembered), and ``applied`` counts how often each ``requestId`` changed something, so
tests can prove a retried request was applied once.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lxml import etree

from sandbox.soap_server import SoapFault, SoapService, child_text

NS = "urn:szhc:healthcard:v1"
PATH = "/soap/healthcard"
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
ID_TYPES = ("RIC", "HKMO", "TW", "PASSPORT", "FRP")
SUSPEND_REASONS = ("OPT_OUT", "CARD_DEAD", "DEREGISTERED")
_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,32}")


@dataclass
class HealthCard:
    health_card_no: str
    id_type: str
    id_number: str
    card_id: str
    status: str  # ACTIVE | SUSPENDED
    since: datetime


class HealthCardService(SoapService):
    """Sandbox health-card service.

    ``unknown_identities``: ID numbers answered ``H01`` (identity unknown); by default
    also any ID number starting ``000000`` (no real region code does).
    """

    namespace = NS
    path = PATH
    wsdl = "healthcard.wsdl"

    def __init__(
        self,
        users: Mapping[str, str],
        *,
        seed: int = 0,
        unknown_identities: Collection[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(users, clock=clock)
        self.unknown_identities = set(unknown_identities)
        self.cards: dict[str, HealthCard] = {}
        self._by_person: dict[tuple[str, str], str] = {}
        self._answers: dict[str, tuple[str, etree._Element]] = {}
        self.applied: Counter[str] = Counter()  # requestId -> times it changed state
        self._rng = random.Random(seed)
        self._state = threading.Lock()
        self._h99 = 0

    def inject_h99(self, count: int) -> None:
        """The next ``count`` EnrollCard/SuspendCard answer FAILED/H99 (remembered like any
        answer, so only a new requestId gets past it: health.md's operator path)."""
        with self._state:
            self._h99 += count

    def _take_h99(self, name: str) -> etree._Element | None:
        if not self._h99:
            return None
        self._h99 -= 1
        return self.element(name, [("result", "FAILED"), ("reasonCode", "H99")])

    def operations(self) -> Mapping[str, Callable[[etree._Element], etree._Element]]:
        return {"EnrollCard": self._enroll, "SuspendCard": self._suspend, "QueryCard": self._query}

    def is_unknown(self, id_type: str, id_number: str) -> bool:
        return id_number in self.unknown_identities or id_number.startswith("000000")

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), BEIJING).replace(microsecond=0)

    def _new_number(self) -> str:
        while True:
            number = "4403" + "".join(self._rng.choice("0123456789") for _ in range(14))
            if number not in self.cards:
                return number

    def _remembered(self, operation: str, request_id: str) -> etree._Element | None:
        if not _REQUEST_ID.fullmatch(request_id):
            raise SoapFault("Client", "requestId must be 1-32 of A-Za-z0-9-")
        first = self._answers.get(request_id)
        if first is None:
            return None
        if first[0] != operation:
            raise SoapFault("Client", f"requestId already used for {first[0]}")
        return first[1]

    def _enroll(self, body: etree._Element) -> etree._Element:
        request_id = child_text(body, NS, "requestId")
        fields = {n: child_text(body, NS, n) for n in ("volunteerNo", "idType", "idNumber", "name", "cardId")}
        if fields["idType"] not in ID_TYPES:
            raise SoapFault("Client", f"idType must be one of {', '.join(ID_TYPES)}")
        with self._state:
            first = self._remembered("EnrollCard", request_id)
            if first is not None:
                return first
            person = (fields["idType"], fields["idNumber"])
            failed = self._take_h99("EnrollCardResponse")
            if failed is not None:
                answer = failed
            elif self.is_unknown(*person):
                answer = self.element("EnrollCardResponse", [("result", "FAILED"), ("reasonCode", "H01")])
            else:
                number = self._by_person.get(person)
                card = self.cards.get(number) if number else None
                if card is not None and card.status == "ACTIVE" and card.card_id == fields["cardId"]:
                    answer = self.element(
                        "EnrollCardResponse",
                        [("result", "FAILED"), ("healthCardNo", number), ("reasonCode", "H02")],
                    )
                else:
                    if card is None:
                        number = self._new_number()
                        card = HealthCard(
                            number, person[0], person[1], fields["cardId"], "ACTIVE", self._now()
                        )
                        self.cards[number] = card
                        self._by_person[person] = number
                    else:
                        card.card_id, card.status, card.since = fields["cardId"], "ACTIVE", self._now()
                    self.applied[request_id] += 1
                    answer = self.element("EnrollCardResponse", [("result", "OK"), ("healthCardNo", number)])
            self._answers[request_id] = ("EnrollCard", answer)
            return answer

    def _suspend(self, body: etree._Element) -> etree._Element:
        request_id = child_text(body, NS, "requestId")
        number = child_text(body, NS, "healthCardNo")
        reason = child_text(body, NS, "reason")
        if reason not in SUSPEND_REASONS:
            raise SoapFault("Client", f"reason must be one of {', '.join(SUSPEND_REASONS)}")
        with self._state:
            first = self._remembered("SuspendCard", request_id)
            if first is not None:
                return first
            card = self.cards.get(number)
            failed = self._take_h99("SuspendCardResponse")
            if failed is not None:
                answer = failed
            elif card is None:
                answer = self.element("SuspendCardResponse", [("result", "FAILED"), ("reasonCode", "H03")])
            else:
                if card.status != "SUSPENDED":
                    card.status, card.since = "SUSPENDED", self._now()
                self.applied[request_id] += 1
                answer = self.element("SuspendCardResponse", [("result", "OK")])
            self._answers[request_id] = ("SuspendCard", answer)
            return answer

    def _query(self, body: etree._Element) -> etree._Element:
        number = child_text(body, NS, "healthCardNo")
        with self._state:
            card = self.cards.get(number)
            if card is None:
                raise SoapFault("Client", "unknown healthCardNo")
            return self.element(
                "QueryCardResponse",
                [
                    ("healthCardNo", card.health_card_no),
                    ("status", card.status),
                    ("cardId", card.card_id),
                    ("since", card.since.isoformat()),
                ],
            )
