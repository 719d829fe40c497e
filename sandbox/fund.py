"""The sandbox volunteer fund (SZVF) back office, as fund.md describes it.

Intake reads DONATIONEXP (and SVA's ACKs) and acknowledges it; what SVA expected is kept
for the record but does not change what the fund books. The fund books what the *bank*
transferred: on ``FundRates.booking_day`` of each month (the 8th by default, "by the
10th"), or the first day closed after it, it books the previous month per volunteer
number from ``transfers(period)`` (the world wires the sandbox bank's
``monthly_transfer``: the sum of the bank's own ``donation_fen`` per volunteer) and writes
one DONATION file, even when empty. At configurable rates a booking is short, over or
missing, or comes as two receipts (the second possibly a negative correction). Receipt
ids are unique for ever.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sandbox.clock import at, previous_month
from sandbox.office import Office
from sandbox.wire import Received

_SCHEMA = """
CREATE TABLE IF NOT EXISTS expected (
    volunteer_no TEXT, period TEXT, purchase_count INTEGER, reversal_count INTEGER, expected_fen INTEGER,
    file TEXT, PRIMARY KEY (volunteer_no, period, file));
CREATE TABLE IF NOT EXISTS booked (
    receipt_id TEXT PRIMARY KEY, volunteer_no TEXT, period TEXT, amount_fen INTEGER, received_date TEXT,
    sent_in TEXT);
CREATE TABLE IF NOT EXISTS periods (period TEXT PRIMARY KEY, day TEXT);
"""


@dataclass(frozen=True)
class FundRates:
    booking_day: int = 8  # day of the month the previous month is booked (by the 10th)
    short_rate: float = 0.02
    over_rate: float = 0.01
    missing_rate: float = 0.01
    split_rate: float = 0.05  # booked as two receipts (the second may be a negative correction)


class FundOffice(Office):
    partner = "SZVF"
    data_types = frozenset({"DONATIONEXP"})
    schema = _SCHEMA
    default_rates = FundRates()
    rates: FundRates
    #: What the bank transferred for a period, per volunteer number (the world wires the
    #: bank's); None: nothing was transferred.
    transfers: Callable[[str], dict[str, int]] | None = None

    def apply(self, r: Received, day: date) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO expected VALUES (?, ?, ?, ?, ?, ?)",
            [
                (rec["volunteer_no"], rec["period"], rec["purchase_count"], rec["reversal_count"],
                 rec["expected_fen"], r.name)
                for _, rec in r.records
            ],
        )  # fmt: skip

    def work(self, day: date) -> None:
        if day.day < self.rates.booking_day:
            return
        y, m = previous_month(day)
        period = f"{y:04d}{m:02d}"
        if self.db.execute("SELECT 1 FROM periods WHERE period = ?", (period,)).fetchone():
            return
        records = self.book(period, day)
        self.send("DONATION", day, records, at(day, 10))
        self.db.execute("INSERT INTO periods VALUES (?, ?)", (period, day.isoformat()))

    def book(self, period: str, day: date) -> list[dict]:
        """Book what the bank transferred for ``period``; the DONATION records."""
        rates = self.rates
        records: list[dict] = []
        transferred = self.transfers(period) if self.transfers is not None else {}
        for n, (vol, fen) in enumerate(sorted(transferred.items()), start=1):
            rng = random.Random(f"{self.seed}/book/{period}/{vol}")
            roll = rng.random()
            if roll < rates.missing_rate:
                continue
            amount = fen
            if roll < rates.missing_rate + rates.short_rate:
                amount = fen - 10 * rng.randint(1, 3)
            elif roll < rates.missing_rate + rates.short_rate + rates.over_rate:
                amount = fen + 10 * rng.randint(1, 3)
            parts = [amount]
            if rng.random() < rates.split_rate:
                extra = 10 * rng.randint(1, 3)
                parts = [amount + extra, -extra] if rng.random() < 0.5 else [amount - extra, extra]
            for k, part in enumerate(parts):
                rid = f"R{day:%Y%m%d}{n:08d}{k}"
                records.append(
                    {"receipt_id": rid, "volunteer_no": vol, "period": period, "amount_fen": part,
                     "received_date": day}
                )  # fmt: skip
                self.db.execute(
                    "INSERT INTO booked VALUES (?, ?, ?, ?, ?, NULL)",
                    (rid, vol, period, part, day.isoformat()),
                )
        return records

    def booked(self, period: str) -> dict[str, int]:
        """Booked total per volunteer number for ``period`` (for tests and the demo)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT volunteer_no, sum(amount_fen) FROM booked WHERE period = ? GROUP BY volunteer_no",
                (period,),
            ).fetchall()
            return {v: int(s) for v, s in rows}
