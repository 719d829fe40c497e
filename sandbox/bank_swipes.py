"""The sandbox bank's SWIPE file of a day: the transactions of cards collected and alive
that day (bank.md "SWIPE"), with the anomalies :class:`BankRates` asks for (duplicate
txn_ids, reversals of nothing, wrong figures).

The transactions are stored in the bank's ``swipes`` table as they are made, so that the
bank's monthly transfer to the fund is the sum of its own figures.
"""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from datetime import date, timedelta

from sandbox.bank_rates import BankRates
from sandbox.clock import at

CHANNELS = ("POS", "QR", "ONLINE")
MCCS = ("5812", "5411", "5999", "4111", "5311")
STORE_BATCH = 100_000  # rows stored at a time: bounded memory for a million-record day


def day_swipes(
    db: sqlite3.Connection, rates: BankRates, rng: random.Random, day: date
) -> tuple[list[str], int]:
    """The ``D`` lines of ``day``'s SWIPE file (in no particular order) and their total."""
    d = day.isoformat()
    cards = db.execute(
        "SELECT card_id, volunteer_no FROM cards WHERE collected IS NOT NULL AND collected <= ?"
        " AND (dead IS NULL OR dead > ?) ORDER BY card_id",
        (d, d),
    ).fetchall()
    earlier = db.execute(
        "SELECT txn_id, card_id FROM swipes WHERE day = ? AND txn_type = 'PURCHASE' AND reversed = 0 AND dup = 0",
        ((day - timedelta(days=1)).isoformat(),),
    ).fetchall()
    earlier_by_card: dict[str, list[str]] = defaultdict(list)
    for txn, card in earlier:
        earlier_by_card[card].append(txn)
    counts = swipe_counts(rates, cards, rng)
    lines: list[str] = []
    rows: list[tuple] = []
    reversed_ids: list[str] = []
    today_by_card: dict[str, list[str]] = defaultdict(list)
    total = 0
    base = at(day, 0)
    prefix = f"T{day:%Y%m%d}"
    n = 0
    month = f"{day:%Y%m}"
    for (card, vol), count in zip(cards, counts, strict=True):
        for _ in range(count):
            n += 1
            txn = f"{prefix}{n:015d}"
            when = base + timedelta(seconds=rng.randrange(86400))
            roll = rng.random()
            orig = ""
            dup = 0
            if rng.random() < rates.duplicate_txn_rate and earlier:
                dup = 1
                # a purchase under a txn_id the bank already sent the day before
                txn, kind, fen = earlier[rng.randrange(len(earlier))][0], "PURCHASE", 10
            elif roll < rates.orphan_reversal_rate:
                kind, fen, orig = "REVERSAL", -10, f"X{rng.randrange(10**15):015d}"
            elif roll < rates.orphan_reversal_rate + rates.reversal_rate and (
                today_by_card[card] or earlier_by_card[card]
            ):
                pool = today_by_card[card] or earlier_by_card[card]
                orig = pool.pop(rng.randrange(len(pool)))
                kind, fen = "REVERSAL", -10
                reversed_ids.append(orig)
            elif roll < rates.orphan_reversal_rate + rates.reversal_rate + rates.refund_rate:
                kind, fen = "REFUND", 0
            else:
                kind, fen = "PURCHASE", 10
                today_by_card[card].append(txn)
            if rng.random() < rates.wrong_figure_rate:
                fen = {10: 0, -10: 0, 0: 10}[fen]
            channel = CHANNELS[rng.randrange(3)]
            mcc = MCCS[rng.randrange(5)]
            lines.append(f"D|{txn}|{card}|{vol}|{when:%Y%m%d%H%M%S}|{kind}|{orig}|{channel}|{mcc}|{fen}")
            rows.append((txn, card, vol, d, month, kind, fen, dup))
            if len(rows) >= STORE_BATCH:
                _store(db, rows)
            total += fen
    rng.shuffle(lines)  # "records are in no particular order"
    _store(db, rows)
    db.executemany(
        "UPDATE swipes SET reversed = 1 WHERE txn_id = ? AND dup = 0", [(t,) for t in reversed_ids]
    )
    return lines, total


def _store(db: sqlite3.Connection, rows: list[tuple]) -> None:
    db.executemany(
        "INSERT INTO swipes (txn_id, card_id, volunteer_no, day, month, txn_type, bank_fen, dup)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    rows.clear()


def swipe_counts(rates: BankRates, cards: list[tuple[str, str]], rng: random.Random) -> list[int]:
    """How many transactions each card makes in the day."""
    if not cards:
        return []
    if rates.swipe_total > 0:
        counts = [rates.swipe_total // len(cards)] * len(cards)
        for i in rng.sample(range(len(cards)), rates.swipe_total % len(cards)):
            counts[i] += 1
        return counts
    mean = rates.swipes_per_card_day
    whole, frac = int(mean), mean - int(mean)
    # between 0 and 2*mean, averaging the mean: enough spread for a sandbox
    return [max(0, whole + rng.randint(-whole, whole) + (rng.random() < frac)) for _ in cards]
