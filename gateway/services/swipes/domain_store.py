"""The general way: a SWIPE file applied by the domain's donation rule as it stands.

``gateway.domain.donations.Day`` decides every record; this store feeds it the file a
batch at a time, having looked up what the rule needs of the batch (its txn_ids stored
before, the volunteers and cards it names), writes each decision as it comes, and at the
end looks up the purchases the reversals name before the rule decides them. Only the
reversals and the file's txn_ids stay in memory, not the whole file.

It takes any file: on SQLite (the embedded default) every file; on PostgreSQL a file the
direct way hands back (a txn_id there already), with PostgreSQL's own look-ups and
``COPY`` (``CopyStore`` overrides :meth:`DomainStore._find` and
:meth:`DomainStore._insert`). A txn_id another worker commits meanwhile fails the
primary key; the engine then applies the file again from the start, and finds it a
duplicate.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator
from datetime import date

from sqlalchemy import BigInteger, Date, Table, bindparam, insert, select, text
from sqlalchemy.orm import Session

from gateway.domain import donations as rule
from gateway.models import Card, Volunteer
from gateway.models.donations import Swipe, SwipeDuplicate, SwipeReversal
from gateway.services.channels import ApplyAgain
from gateway.services.swipes.store import SwipeSummary, Texts
from gateway.timeutil import BEIJING, as_beijing
from schemas.reader import Record

log = logging.getLogger("svcard.swipes")

BATCH = 10_000  # rows per bulk insert

# Adds a file's figures to the rows an earlier file of the same day left (a second SEQ),
# in the one statement: two workers on two files of one day each add, neither overwrites.
ADD_UP = """
ON CONFLICT (day, volunteer_no) DO UPDATE SET
  purchases = donation_days.purchases + excluded.purchases,
  reversals = donation_days.reversals + excluded.reversals,
  computed_fen = donation_days.computed_fen + excluded.computed_fen,
  bank_fen = donation_days.bank_fen + excluded.bank_fen,
  flagged = donation_days.flagged + excluded.flagged
"""

_ADD_DAYS = text(
    "INSERT INTO donation_days (day, volunteer_no, purchases, reversals, computed_fen, bank_fen, flagged) "
    "VALUES (:day, :volunteer_no, :purchases, :reversals, :computed_fen, :bank_fen, :flagged)" + ADD_UP
).bindparams(bindparam("day", type_=Date), bindparam("bank_fen", type_=BigInteger))

_SWIPES, _DUPLICATES, _REVERSALS = Swipe.__table__, SwipeDuplicate.__table__, SwipeReversal.__table__


class DomainStore:
    """The donation rule of ``gateway.domain.donations``, through SQLAlchemy."""

    #: records per look-up: each key is a parameter, within SQLite's bound on them
    keys_per_lookup = 5_000

    def apply_texts(
        self, session: Session, file_id: int, day: date, records: Iterable[Texts]
    ) -> SwipeSummary:
        # The rule reads typed values (times, integers): the engine reads the file again
        # for :meth:`apply`, before this transaction has written anything of it.
        raise ApplyAgain

    def apply(self, session: Session, file_id: int, day: date, records: Iterable[Record]) -> SwipeSummary:
        session.flush()  # the look-ups read the tables, not the session
        known = _Known(self, session)
        decide = rule.Day(known.ledger, known.people, known.cards)
        out = _Out(self, session, file_id, day)
        it = iter(records)  # in line order (Reader.records)
        while batch := list(itertools.islice(it, self.keys_per_lookup)):
            data = []
            for line, _type, d in batch:
                d["line"] = line  # the rule's key; the reader's dict is this file's alone
                data.append(d)
            known.learn(data)
            for d in data:
                o = decide.add(d)
                if o is not None:
                    out.add(d, o)
        known.learn_purchases(decide.named)
        for d, o in decide.reversals():
            out.add(d, o)
        summary = out.close()
        log.info("SWIPE %s (file %s): %s", day, file_id, summary)
        return summary

    def _find(
        self, session: Session, table: Table, columns: tuple[str, ...], keys: set[str]
    ) -> Iterable[tuple]:
        """``columns`` of the rows of ``table`` whose first column is one of ``keys`` (at
        most :attr:`keys_per_lookup`)."""
        if not keys:
            return ()
        query = select(*(table.c[c] for c in columns)).where(table.c[columns[0]].in_(sorted(keys)))
        return session.execute(query).all()

    def _insert(self, session: Session, table: Table, rows: list[dict]) -> None:
        """Rows of one shape (the same keys, in the same order) into ``table``."""
        session.execute(insert(table), rows)


class _Known:
    """What the rule needs to know of the file, looked up as the records come: each
    volunteer number and card once, each txn_id against ``swipes``."""

    def __init__(self, store: DomainStore, session: Session) -> None:
        self.store, self.session, self.size = store, session, store.keys_per_lookup
        self.ledger = rule.Ledger()
        self.people: dict[str, rule.Person] = {}
        self.cards: dict[str, int] = {}
        self._numbers: set[str] = set()  # looked up, found or not
        self._card_ids: set[str] = set()

    def find(self, table: Table, columns: tuple[str, ...], keys: set[str]) -> Iterable[tuple]:
        return self.store._find(self.session, table, columns, keys)

    def learn(self, data: list[dict]) -> None:
        """Before the batch ``data`` goes to the rule: which of its txn_ids an earlier file
        stored, and the volunteers (any status: a number SVA knows), with the instant of
        any deregistration in the records' terms (Beijing wall time, naive), and cards it
        names."""
        self.ledger.seen.update(t for (t,) in self.find(_SWIPES, ("txn_id",), {d["txn_id"] for d in data}))
        numbers = {d["volunteer_no"] for d in data} - self._numbers
        for no, vid, gone in self.find(
            Volunteer.__table__, ("volunteer_no", "id", "deregistered_at"), numbers
        ):
            self.people[no] = rule.Person(vid, gone and as_beijing(gone).replace(tzinfo=None))
        self._numbers |= numbers
        card_ids = {d["card_id"] for d in data} - self._card_ids
        self.cards.update(self.find(Card.__table__, ("card_id", "volunteer_id"), card_ids))
        self._card_ids |= card_ids

    def learn_purchases(self, named: set[str]) -> None:
        """Before the reversals go to the rule: the purchases they name that earlier files
        stored (this file's the rule knows), and which of them are reversed already."""
        ledger = self.ledger
        for chunk in _chunks(named - ledger.purchases.keys(), self.size):
            for txn, kind, ben in self.find(_SWIPES, ("txn_id", "txn_type", "beneficiary"), chunk):
                if kind == "PURCHASE":
                    ledger.purchases[txn] = ben
        for chunk in _chunks(named, self.size):
            ledger.reversed.update(orig for (orig,) in self.find(_REVERSALS, ("orig_txn_id",), chunk))


def _chunks(keys: set[str], size: int) -> Iterator[set[str]]:
    ordered = sorted(keys)
    for i in range(0, len(ordered), size):
        yield set(ordered[i : i + size])


class _Out:
    """The rule's decisions written as they come, a batch at a time: each record in
    ``swipes`` (or ``swipe_duplicates``), each valid reversal's pair in
    ``swipe_reversals``; the day's totals counted, and added at the end."""

    def __init__(self, store: DomainStore, session: Session, file_id: int, day: date) -> None:
        self.store, self.session, self.file_id, self.day = store, session, file_id, day
        self.batches: dict[Table, list[dict]] = {_SWIPES: [], _DUPLICATES: [], _REVERSALS: []}
        self.totals: dict[str, rule.DayTotal] = {}
        self.summary = SwipeSummary()

    def add(self, d: dict, o: rule.Outcome) -> None:
        row = {
            "file_id": self.file_id,
            "line": d["line"],
            "txn_id": d["txn_id"],
            "card_id": d["card_id"],
            "volunteer_no": d["volunteer_no"],
            "txn_time": d["txn_time"].replace(tzinfo=BEIJING),  # the file's time is Beijing's
            "day": self.day,
            "txn_type": d["txn_type"],
            "orig_txn_id": d["orig_txn_id"],
            "bank_fen": d["donation_fen"],
            "beneficiary": o.beneficiary,
            "flags": o.flags,
        }
        if o.duplicate:
            self._row(_DUPLICATES, row)
        else:
            self._row(_SWIPES, dict(row, channel=d["channel"], mcc=d["mcc"], fen=o.fen))
            if d["txn_type"] == "REVERSAL" and o.fen:
                self._row(_REVERSALS, {"orig_txn_id": d["orig_txn_id"], "txn_id": d["txn_id"]})
        total = self.totals.get(o.beneficiary)
        if total is None:
            total = self.totals[o.beneficiary] = rule.DayTotal()
        total.add(d, o)
        self.summary.records += 1
        self.summary.duplicates += o.duplicate

    def _row(self, table: Table, row: dict) -> None:
        rows = self.batches[table]
        rows.append(row)
        if len(rows) >= BATCH:
            self.store._insert(self.session, table, rows)
            rows.clear()

    def close(self) -> SwipeSummary:
        for table, rows in self.batches.items():
            if rows:
                self.store._insert(self.session, table, rows)
        days = [
            {"day": self.day, "volunteer_no": ben, "purchases": t.purchases, "reversals": t.reversals,
             "computed_fen": t.computed_fen, "bank_fen": t.bank_fen, "flagged": t.flagged}
            for ben, t in sorted(self.totals.items())
        ]  # fmt: skip
        for i in range(0, len(days), BATCH):
            self.session.execute(_ADD_DAYS, days[i : i + BATCH])
        s, totals = self.summary, self.totals.values()
        s.stored = s.records - s.duplicates
        s.flagged = sum(t.flagged for t in totals)
        s.computed_fen = sum(t.computed_fen for t in totals)
        s.bank_fen = sum(t.bank_fen for t in totals)
        return s
