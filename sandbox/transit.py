"""The sandbox Shenzhen Tong (SZT) back office, as transit.md describes it.

Intake reads TRANSITREQ (and SVA's ACKs), acknowledges it, and answers every valid
request exactly once, in the TRANSITACK written every day (empty when nothing was asked):
``OK`` (a 12-digit transit account for ``ENABLE``, the same one each time a card is
enabled), ``FAILED``/``T02`` when the card is already in that state, ``T01`` for a card
SZT does not know, ``T03`` (card blocked) at ``TransitRates.blocked_rate``. A request that
was a record error in our ACK gets no answer; a ``request_id`` seen before is not answered
twice. At ``resend_rate`` a day's answer file is sent again, unchanged but for its SEQ
(the spec allows it: a resent answer changes nothing).

Which cards SZT knows: ``knows_card`` (the world wires the sandbox bank's ``card_known``,
so SZT knows the cards the bank made); without it, every well-formed card id.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sandbox.clock import at
from sandbox.office import Office
from sandbox.wire import Received

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY, action TEXT, card_id TEXT, result TEXT, reason_code TEXT,
    account TEXT, day TEXT, sent_in TEXT);
CREATE TABLE IF NOT EXISTS transit_cards (card_id TEXT PRIMARY KEY, enabled INTEGER, account TEXT);
"""


@dataclass(frozen=True)
class TransitRates:
    blocked_rate: float = 0.01  # requests answered FAILED/T03
    resend_rate: float = 0.0  # days whose answer file is sent twice (transit.md: "may resend an answer file")


class TransitOffice(Office):
    partner = "SZT"
    data_types = frozenset({"TRANSITREQ"})
    schema = _SCHEMA
    default_rates = TransitRates()
    rates: TransitRates
    #: Whether SZT knows a card id (the world wires the bank's); None: every well-formed one.
    knows_card: Callable[[str], bool] | None = None

    def apply(self, r: Received, day: date) -> None:
        for _, rec in r.records:
            rid = rec["request_id"]
            if self.db.execute("SELECT 1 FROM requests WHERE request_id = ?", (rid,)).fetchone():
                continue  # answered once, never twice
            result, code, account = self._answer(rec)
            self.db.execute(
                "INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (rid, rec["action"], rec["card_id"], result, code, account, day.isoformat()),
            )

    def _answer(self, rec: dict) -> tuple[str, str | None, str | None]:
        card_id = rec["card_id"]
        if self.knows_card is not None and not self.knows_card(card_id):
            return "FAILED", "T01", None
        if random.Random(f"{self.seed}/blocked/{rec['request_id']}").random() < self.rates.blocked_rate:
            return "FAILED", "T03", None
        row = self.db.execute(
            "SELECT enabled, account FROM transit_cards WHERE card_id = ?", (card_id,)
        ).fetchone()
        enabled, account = (bool(row[0]), row[1]) if row else (False, None)
        want = rec["action"] == "ENABLE"
        if enabled == want:
            return "FAILED", "T02", None
        if want and account is None:
            rng = random.Random(f"{self.seed}/account/{card_id}")
            account = f"31{rng.randrange(10**10):010d}"
        self.db.execute(
            "INSERT INTO transit_cards VALUES (?, ?, ?) ON CONFLICT (card_id) DO UPDATE SET enabled = excluded.enabled",
            (card_id, int(want), account),
        )
        return "OK", None, account if want else None

    def work(self, day: date) -> None:
        rows = self.db.execute(
            "SELECT request_id, result, reason_code, account FROM requests WHERE sent_in IS NULL AND day <= ?"
            " ORDER BY day, request_id",
            (day.isoformat(),),
        ).fetchall()
        records = [
            {
                "request_id": r[0],
                "result": r[1],
                "reason_code": r[2],
                "transit_account_no": r[3],
                "processed_date": day,
            }
            for r in rows
        ]
        name = self.send("TRANSITACK", day, records, at(day + timedelta(days=1), 6, 45))
        if records and random.Random(f"{self.seed}/resend/{day}").random() < self.rates.resend_rate:
            self.send("TRANSITACK", day, records, at(day + timedelta(days=1), 6, 50))
        self.db.executemany(
            "UPDATE requests SET sent_in = ? WHERE request_id = ?", [(name, r[0]) for r in rows]
        )

    def enabled(self, card_id: str) -> bool:
        """Whether the card's transit function is on (for tests and the demo)."""
        with self.lock:
            row = self.db.execute(
                "SELECT enabled FROM transit_cards WHERE card_id = ?", (card_id,)
            ).fetchone()
            return bool(row and row[0])
