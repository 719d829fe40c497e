"""The donation rule (bank.md "SWIPE", fund.md "Reconciliation"): pure Python, one place.

:class:`Day` below is the rule record by record (:func:`apply_day`: on a whole file at
once), and the text to read when in doubt. The swipe ingestion (``gateway.services.swipes``)
applies it as it stands to any file (its ``DomainStore``: SQLite's way, and PostgreSQL's
for a file with a txn_id there already), and has one fast path beside it on PostgreSQL
(``CopyStore``: the rule on the records' field texts, straight into ``COPY``), which the
tests hold to this one.

* Every record that passed its field rules is stored and counted once, by ``txn_id``: a
  ``txn_id`` seen before (in this file, at a lower line, or in an earlier file) is a
  duplicate, donates nothing and is flagged.
* ``PURCHASE`` donates 10 fen, ``REFUND`` 0. A ``REVERSAL`` donates −10 when its
  ``orig_txn_id`` is a ``PURCHASE`` seen in this file (whatever the line order) or an
  earlier one, and not yet reversed; otherwise 0, flagged (reversal of nothing / reversed
  twice). Two reversals of one purchase in one file: the earlier ``txn_time`` (then the
  lower line) wins.
* The bank's ``donation_fen`` is never trusted: a different figure is flagged.
* Beneficiary: the record's ``volunteer_no``; the campaign ``0000000000`` when the number
  is unknown to SVA (flagged) or the purchase was made at or after the volunteer's
  deregistration instant. A valid reversal follows its purchase's beneficiary.
* A card unknown to SVA, or linked to another volunteer, is flagged only.
* A donation counts in the month of its own ``txn_time`` (a SWIPE file holds one day).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

CAMPAIGN = "0000000000"
PURCHASE_FEN = 10
REVERSAL_FEN = -10

# Flags of a SWIPE record (a bit set; stored as an integer).
BANK_DIFFERS = 1
REVERSAL_OF_NOTHING = 2
REVERSED_TWICE = 4
UNKNOWN_VOLUNTEER = 8
UNKNOWN_CARD = 16
CARD_OTHER_VOLUNTEER = 32
DUPLICATE = 64

FLAG_NAMES = {
    BANK_DIFFERS: "BANK_DIFFERS",
    REVERSAL_OF_NOTHING: "REVERSAL_OF_NOTHING",
    REVERSED_TWICE: "REVERSED_TWICE",
    UNKNOWN_VOLUNTEER: "UNKNOWN_VOLUNTEER",
    UNKNOWN_CARD: "UNKNOWN_CARD",
    CARD_OTHER_VOLUNTEER: "CARD_OTHER_VOLUNTEER",
    DUPLICATE: "DUPLICATE",
}

# Reconciliation classes, in the order fund.md tries them.
UNEXPECTED, MISSING, MATCHED, SHORT, OVER = "UNEXPECTED", "MISSING", "MATCHED", "SHORT", "OVER"
CLASSES = (UNEXPECTED, MISSING, MATCHED, SHORT, OVER)


def flag_names(flags: int) -> list[str]:
    return [name for bit, name in FLAG_NAMES.items() if flags & bit]


def period_of(day: date) -> str:
    """``YYYYMM`` of a Beijing date."""
    return f"{day:%Y%m}"


def beneficiary(volunteer_no: str, at: datetime, deregistered_at: datetime | None, known: bool) -> str:
    """Who a purchase made at ``at`` donates for (both instants aware, or both naive in the
    same zone)."""
    if not known:
        return CAMPAIGN
    if deregistered_at is not None and at >= deregistered_at:
        return CAMPAIGN
    return volunteer_no


def expected_fen(purchases: int, reversals: int) -> int:
    """DONATIONEXP's expected_fen: 10 × (purchases − valid reversals); may be negative."""
    return PURCHASE_FEN * (purchases - reversals)


def classify(computed: int | None, booked: int | None) -> str:
    """fund.md's class: ``None`` means no computed figure / no DONATION line."""
    if booked is not None and computed is None:
        return UNEXPECTED
    if computed not in (None, 0) and booked is None:
        return MISSING
    c, b = computed or 0, booked or 0
    if b == c:
        return MATCHED
    return SHORT if b < c else OVER


# ------------------------------------------------------------------ the rule, record by record


@dataclass(frozen=True)
class Person:
    """What SVA knows of a volunteer for the rule: instants in the same zone as txn_time."""

    volunteer_id: int
    deregistered_at: datetime | None = None


class Outcome(NamedTuple):
    """One SWIPE record after the rule: SVA's figure, the beneficiary and the flags. (A
    tuple, not a dataclass: a file's million of them would keep the collector busy.)"""

    txn_id: str
    fen: int
    beneficiary: str
    flags: int
    duplicate: bool = False


@dataclass
class Ledger:
    """What the rule knows of the txn_ids a file names: every txn_id seen (stored by an
    earlier file, or at a lower line of this one), each purchase's beneficiary and
    whether it is reversed. :class:`Day` adds the file's own as it goes."""

    seen: set[str] = field(default_factory=set)
    purchases: dict[str, str] = field(default_factory=dict)  # txn_id -> beneficiary
    reversed: set[str] = field(default_factory=set)


class Day:
    """The rule over one file's records (dicts with the SWIPE field names and ``line``),
    fed in line order. A purchase, refund or duplicate is decided as it comes
    (:meth:`add`); a reversal waits for the end of the file, as its purchase may come
    after it, and the reversals are then decided earliest first (:meth:`reversals`).
    ``volunteers`` must know each record's number, ``cards`` (card_id → volunteer_id)
    its card, and ``ledger`` its txn_id by the time the record is added; the purchases
    the reversals name (:attr:`named`) and whether they are reversed, by the end."""

    def __init__(self, ledger: Ledger, volunteers: Mapping[str, Person], cards: Mapping[str, int]) -> None:
        self.ledger, self.volunteers, self.cards = ledger, volunteers, cards
        self._waiting: list[tuple[datetime, int, Mapping, str]] = []  # (time, line, reversal, own)

    def add(self, r: Mapping) -> Outcome | None:
        """The record's outcome, or None for a reversal (see :meth:`reversals`)."""
        own = _own_beneficiary(r, self.volunteers)
        seen = self.ledger.seen
        if r["txn_id"] in seen:
            return Outcome(r["txn_id"], 0, own, DUPLICATE | _differs(r, 0), True)
        seen.add(r["txn_id"])
        if r["txn_type"] == "REVERSAL":
            self._waiting.append((r["txn_time"], r["line"], r, own))
            return None
        if r["txn_type"] == "PURCHASE":
            self.ledger.purchases[r["txn_id"]] = own
            fen = PURCHASE_FEN
        else:  # REFUND
            fen = 0
        return Outcome(r["txn_id"], fen, own, self._flags(r) | _differs(r, fen))

    @property
    def named(self) -> set[str]:
        """The purchases the waiting reversals name."""
        return {r["orig_txn_id"] for _t, _line, r, _own in self._waiting}

    def reversals(self) -> Iterator[tuple[Mapping, Outcome]]:
        """After the file's last record: each reversal with its outcome, earliest first
        (time, then line)."""
        ledger = self.ledger
        self._waiting.sort(key=lambda w: (w[0], w[1]))
        for _t, _line, r, own in self._waiting:
            flags = self._flags(r)
            orig = r["orig_txn_id"]
            if orig not in ledger.purchases:
                fen, who, flags = 0, own, flags | REVERSAL_OF_NOTHING
            elif orig in ledger.reversed:
                fen, who, flags = 0, own, flags | REVERSED_TWICE
            else:
                ledger.reversed.add(orig)
                fen, who = REVERSAL_FEN, ledger.purchases[orig]
            yield r, Outcome(r["txn_id"], fen, who, flags | _differs(r, fen))
        self._waiting.clear()

    def _flags(self, r: Mapping) -> int:
        """The card and number flags: they never move the donation."""
        flags = _card_flags(r, self.volunteers, self.cards)
        return flags if r["volunteer_no"] in self.volunteers else flags | UNKNOWN_VOLUNTEER


def apply_day(
    records: Iterable[Mapping],
    ledger: Ledger,
    volunteers: Mapping[str, Person],
    cards: Mapping[str, int],
) -> list[Outcome]:
    """The rule on one whole file's records, in any order: their outcomes in line order;
    updates ``ledger``. ``cards`` maps card_id → volunteer_id."""
    rows = sorted(records, key=lambda r: r["line"])
    day = Day(ledger, volunteers, cards)
    out = {r["line"]: day.add(r) for r in rows}
    for r, o in day.reversals():
        out[r["line"]] = o
    return [out[r["line"]] for r in rows]


@dataclass
class DayTotal:
    """What one file adds to a beneficiary's figures of its day (``donation_days``)."""

    purchases: int = 0  # purchases stored (a duplicate is none)
    reversals: int = 0  # reversals that took a donation back
    computed_fen: int = 0  # SVA's figure
    bank_fen: int = 0  # the bank's, duplicates included: the bank claimed them
    flagged: int = 0  # flagged records, duplicates included

    def add(self, r: Mapping, o: Outcome) -> None:
        """Count one record of the file, with its outcome."""
        self.purchases += not o.duplicate and r["txn_type"] == "PURCHASE"
        self.reversals += r["txn_type"] == "REVERSAL" and o.fen != 0
        self.computed_fen += o.fen
        self.bank_fen += r["donation_fen"]
        self.flagged += o.flags != 0


def _own_beneficiary(r: Mapping, volunteers: Mapping[str, Person]) -> str:
    p = volunteers.get(r["volunteer_no"])
    return beneficiary(r["volunteer_no"], r["txn_time"], p.deregistered_at if p else None, p is not None)


def _card_flags(r: Mapping, volunteers: Mapping[str, Person], cards: Mapping[str, int]) -> int:
    owner = cards.get(r["card_id"])
    if owner is None:
        return UNKNOWN_CARD
    p = volunteers.get(r["volunteer_no"])
    return CARD_OTHER_VOLUNTEER if p is None or p.volunteer_id != owner else 0


def _differs(r: Mapping, fen: int) -> int:
    return BANK_DIFFERS if r["donation_fen"] != fen else 0
