"""The donation rule (bank.md "SWIPE", fund.md "Reconciliation"): pure Python, one place.

The swipe ingestion applies this rule two ways for speed (``gateway.services.swipes``:
in Python on the records' field texts, and set-based in SQL); :func:`apply_day` below is
the same rule record by record, the reference both are tested against, and the text to
read when in doubt.

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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

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


# ------------------------------------------------------------------ the reference rule


@dataclass(frozen=True)
class Person:
    """What SVA knows of a volunteer for the rule: instants in the same zone as txn_time."""

    volunteer_id: int
    deregistered_at: datetime | None = None


@dataclass
class Outcome:
    """One SWIPE record after the rule: SVA's figure, the beneficiary and the flags."""

    txn_id: str
    fen: int
    beneficiary: str
    flags: int
    duplicate: bool = False


@dataclass
class Ledger:
    """What earlier files left behind: every txn_id seen, and each purchase's beneficiary
    and whether it is reversed."""

    seen: set[str] = field(default_factory=set)
    purchases: dict[str, str] = field(default_factory=dict)  # txn_id -> beneficiary
    reversed: set[str] = field(default_factory=set)


def apply_day(
    records: Iterable[Mapping],
    ledger: Ledger,
    volunteers: Mapping[str, Person],
    cards: Mapping[str, int],
) -> list[Outcome]:
    """The rule on one file's records (dicts with the SWIPE field names and ``line``),
    record by record; updates ``ledger``. ``cards`` maps card_id → volunteer_id."""
    rows = sorted(records, key=lambda r: r["line"])
    out: dict[int, Outcome] = {}
    firsts: list[Mapping] = []
    for r in rows:
        own = _own_beneficiary(r, volunteers)
        if r["txn_id"] in ledger.seen:
            out[r["line"]] = Outcome(r["txn_id"], 0, own, DUPLICATE | _differs(r, 0), True)
            continue
        ledger.seen.add(r["txn_id"])
        firsts.append(r)
    for r in firsts:  # purchases first: a reversal may come before its purchase
        if r["txn_type"] == "PURCHASE":
            ledger.purchases[r["txn_id"]] = _own_beneficiary(r, volunteers)
    for r in sorted(firsts, key=lambda r: (r["txn_time"], r["line"])):
        flags = _card_flags(r, volunteers, cards)
        own = _own_beneficiary(r, volunteers)
        if r["volunteer_no"] not in volunteers:
            flags |= UNKNOWN_VOLUNTEER
        if r["txn_type"] == "PURCHASE":
            fen, who = PURCHASE_FEN, own
        elif r["txn_type"] == "REFUND":
            fen, who = 0, own
        else:
            orig = r["orig_txn_id"]
            if orig not in ledger.purchases:
                fen, who, flags = 0, own, flags | REVERSAL_OF_NOTHING
            elif orig in ledger.reversed:
                fen, who, flags = 0, own, flags | REVERSED_TWICE
            else:
                ledger.reversed.add(orig)
                fen, who = REVERSAL_FEN, ledger.purchases[orig]
        out[r["line"]] = Outcome(r["txn_id"], fen, who, flags | _differs(r, fen))
    return [out[r["line"]] for r in rows]


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
