"""The direct way: a SWIPE file ``COPY``ed straight into its tables (PostgreSQL).

The donation rule (``gateway.domain.donations``) applied in Python as the records stream
in as field texts (``Reader.texts``), one look-up per record for the common case (a
volunteer's purchase on the volunteer's own card), every purchase and refund ``COPY``ed
straight into ``swipes`` with its figure, beneficiary and flags; reversals (one may come
before its purchase) and rare records (unknown or another's card, unknown number,
deregistered volunteer) decided at the end; the day's totals counted on the way. The
tests hold it to the rule itself (``DomainStore``), record by record.

It never looks for duplicates: the ``txn_id`` primary key does, and when it fails (a
bank resend, a ``txn_id`` twice in the file, another worker first) the store raises
:class:`~gateway.services.channels.ApplyAgain` and the engine applies the file again
through :meth:`CopyStore.apply`, the rule as it stands (``DomainStore``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import psycopg.errors
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Table
from sqlalchemy.orm import Session

from gateway.domain import donations as rule
from gateway.services.channels import ApplyAgain
from gateway.services.swipes.domain_store import ADD_UP, DomainStore
from gateway.services.swipes.store import SwipeSummary, Texts
from gateway.timeutil import as_beijing

log = logging.getLogger("svcard.swipes")

BATCH = 20_000  # rows per COPY write
NULL = "\\N"  # COPY text format
# The rule of gateway.domain.donations, record by record on the field texts as the file
# streams in; every statement is COPY or a look-up. A record is
# ``(line, (txn_id, card_id, volunteer_no, txn_time, txn_type, orig_txn_id, channel, mcc,
# donation_fen))``, all text as in the file (``schemas.reader.Reader.texts``).

_DIRECT_COLUMNS = (
    "txn_id, line, card_id, volunteer_no, txn_time, txn_type, orig_txn_id, channel, mcc, "
    "bank_fen, fen, beneficiary, flags, file_id, day"
)


class _Owners:
    """The cards of official volunteers not deregistered, each mapped to its volunteer's
    tally ``[volunteer_no, purchases]`` (one list per volunteer). A record whose number
    is its card's owner's is the common case — the volunteer is the beneficiary, no card
    or volunteer flag — and costs one look-up, the count included. Any other record is
    *rare* and is decided at the end with :func:`_own`, from the cards and numbers the
    rare records name."""

    def __init__(self, cur) -> None:
        cur.execute(
            "SELECT c.card_id, v.volunteer_no FROM cards c JOIN volunteers v ON v.id = c.volunteer_id "
            "WHERE c.card_id IS NOT NULL AND v.volunteer_no IS NOT NULL AND v.deregistered_at IS NULL"
        )
        tallies: dict[str, list] = {}
        self.owner: dict[str, list] = {}
        for card, no in cur.fetchall():
            tally = tallies.get(no)
            if tally is None:
                tally = tallies[no] = [no, 0]
            self.owner[card] = tally
        self.tallies = tallies.values()


def _own(cur, rare: list[Texts]):
    """``(beneficiary, card and volunteer flags)`` of each rare record by its own number
    and time: the campaign for a number SVA does not know or a time at or after the
    deregistration instant; a flag for an unknown card or one of another volunteer."""
    cur.execute(
        "SELECT volunteer_no, id, deregistered_at FROM volunteers WHERE volunteer_no = ANY(string_to_array(%s, ','))",
        (",".join({f[2] for _line, f in rare}),),
    )
    people = {no: (vid, gone and _first_second_at_or_after(gone)) for no, vid, gone in cur.fetchall()}
    cur.execute(
        "SELECT card_id, volunteer_id FROM cards WHERE card_id = ANY(string_to_array(%s, ','))",
        (",".join({f[1] for _line, f in rare}),),
    )
    cards = dict(cur.fetchall())
    for line, f in rare:
        card_id, volunteer_no, txn_time = f[1], f[2], f[3]
        person = people.get(volunteer_no)
        owner = cards.get(card_id)
        if person is None:
            flags = rule.UNKNOWN_VOLUNTEER | (
                rule.UNKNOWN_CARD if owner is None else rule.CARD_OTHER_VOLUNTEER
            )
            yield line, f, rule.CAMPAIGN, flags
            continue
        vid, gone = person
        flags = 0 if owner == vid else rule.UNKNOWN_CARD if owner is None else rule.CARD_OTHER_VOLUNTEER
        ben = rule.CAMPAIGN if gone is not None and txn_time >= gone else volunteer_no
        yield line, f, ben, flags


def _first_second_at_or_after(instant: datetime) -> str:
    """The first whole second at or after ``instant``, as the file writes Beijing time
    (YYYYMMDDHHMMSS): a record's time (whole seconds) is at or after the instant exactly
    when its text is at or after this one, as texts of one fixed width compare as the
    times do. (A deregistration at 15:00:00.4 leaves a purchase at 15:00:00 with the
    volunteer.)"""
    at = as_beijing(instant)
    if at.microsecond:
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    return f"{at.year:04d}{at:%m%d%H%M%S}"  # (%Y does not pad a year below 1000)


class _Totals:
    """Per-beneficiary totals of the day. The common purchases are counted on the
    volunteers' tallies (:class:`_Owners`); every other record adds here
    ``[purchases, valid reversals, fen, bank fen, flagged records]``."""

    def __init__(self, owners: _Owners) -> None:
        self.tallies = owners.tallies
        self.rest: dict[str, list[int]] = {}

    def add(self, ben: str, purchases: int, reversals: int, fen: int, bank: int, flagged: int) -> None:
        t = self.rest.get(ben)
        if t is None:
            t = self.rest[ben] = [0, 0, 0, 0, 0]
        t[0] += purchases
        t[1] += reversals
        t[2] += fen
        t[3] += bank
        t[4] += flagged

    def rows(self, day: date) -> list[tuple]:
        """(day, beneficiary, purchases, reversals, computed_fen, bank_fen, flagged)."""
        common = {no: n for no, n in self.tallies if n}
        out = []
        for ben in common.keys() | self.rest.keys():
            n = common.get(ben, 0)
            p, rev, fen, bank, flagged = self.rest.get(ben, (0, 0, 0, 0, 0))
            common_fen = n * rule.PURCHASE_FEN  # the bank's figure is SVA's on these
            out.append((day, ben, n + p, rev, common_fen + fen, common_fen + bank, flagged))
        return out


class CopyStore(DomainStore):
    """PostgreSQL's fast path for a file whose txn_ids are all new (nearly every file);
    any other file goes by the rule as it stands (:meth:`apply`, the domain store's)."""

    def apply_texts(
        self, session: Session, file_id: int, day: date, records: Iterable[Texts]
    ) -> SwipeSummary:
        """Apply one SWIPE file's valid records, as field texts, in the caller's transaction.
        Raises :class:`ApplyAgain` — the caller rolls back and applies the file with
        :meth:`apply` — when a ``txn_id`` is there already (twice in the file, stored
        before, or meanwhile)."""
        raw = session.connection().connection.driver_connection
        stages: list[tuple[str, float]] = []
        clock = time.perf_counter()

        def stage(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            stages.append((name, now - clock))
            clock = now

        tail = f"\t{file_id}\t{day}\n"  # the columns every row of the file shares
        try:
            with raw.cursor() as cur:
                owners = _Owners(cur)
                totals = _Totals(owners)
                stage("cards")
                with cur.copy(f"COPY swipes ({_DIRECT_COLUMNS}) FROM STDIN") as copy:
                    count, reversals, rare = _stream(copy, records, owners, totals, tail)
                stage("read, check and COPY")
                # before the reversals: a rare purchase may be the one a reversal names
                rare_rows = _rare_rows(cur, rare, reversals, totals, tail)
                _copy(cur, f"swipes ({_DIRECT_COLUMNS})", rare_rows)
                stage(f"{len(rare)} rare records")
                rev_rows, valid = _reversals(cur, reversals, totals)
                # The day's totals are counted while the server stores the reversals (a
                # writer thread sends them; the COPY ends, and is waited for, at the block's end).
                with cur.copy(
                    f"COPY swipes ({_DIRECT_COLUMNS}) FROM STDIN", writer=QueuedLibpqWriter(cur)
                ) as copy:
                    for i in range(0, len(rev_rows), BATCH):
                        copy.write("".join(r + tail for r in rev_rows[i : i + BATCH]))
                    rows = totals.rows(day)
                    lines = [f"{d}\t{b}\t{p}\t{r}\t{c}\t{k}\t{f}\n" for d, b, p, r, c, k, f in sorted(rows)]
                    pairs = [f"{o}\t{r}\n" for o, r in valid]
                _copy(cur, "swipe_reversals (orig_txn_id, txn_id)", pairs)
                stage(f"{len(reversals)} reversals")
                _store_totals(cur, day, lines)
                stage("day totals")
        except psycopg.errors.UniqueViolation:
            # A txn_id twice in the file or stored before, or a purchase reversed meanwhile:
            # the rule as it stands deduplicates. The caller rolls this transaction back.
            log.info(
                "SWIPE %s (file %s): a key is there already (a txn_id, a reversed purchase or the day's totals); "
                "applying it the general way",
                day,
                file_id,
            )
            raise ApplyAgain from None
        stored = count + len(rare_rows) + len(rev_rows)
        summary = SwipeSummary(
            records=stored,
            stored=stored,
            computed_fen=sum(r[4] for r in rows),
            bank_fen=sum(r[5] for r in rows),
            flagged=sum(r[6] for r in rows),
            way="direct",
        )
        log.info("SWIPE %s (file %s): %s", day, file_id, summary)
        log.debug("SWIPE %s stages: %s", day, ", ".join(f"{n} {s:.2f}s" for n, s in stages))
        return summary

    # The general way (:meth:`apply`, a file handed back) with PostgreSQL's own look-ups
    # and writes; the rule is the domain store's.

    #: records per look-up: the keys go as one array, so many at once (each look-up may
    #: be a pass over a table the planner has no statistics of yet)
    keys_per_lookup = 50_000

    def _find(
        self, session: Session, table: Table, columns: tuple[str, ...], keys: set[str]
    ) -> Iterable[tuple]:
        """The keys as one array literal (A-Z0-9 by the field rules: nothing to quote,
        each quoted so that ``NULL`` is a txn_id), never prepared: PostgreSQL's generic
        plan would not hash them."""
        if not keys:
            return ()
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cur:
            cur.execute(
                f"SELECT {', '.join(columns)} FROM {table.name} WHERE {columns[0]} = ANY(%s::text[])",  # noqa: S608 (the models' names)
                ('{"' + '","'.join(keys) + '"}',),
                prepare=False,
            )
            return cur.fetchall()

    def _insert(self, session: Session, table: Table, rows: list[dict]) -> None:
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(rows[0])}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(row.values()))  # (the driver formats each value, in C)


def _copy(cur, target: str, rows: list[str]) -> None:
    if rows:
        with cur.copy(f"COPY {target} FROM STDIN") as copy:
            for i in range(0, len(rows), BATCH):
                copy.write("".join(rows[i : i + BATCH]))


def _stream(copy, records: Iterable[Texts], owners: _Owners, totals: _Totals, tail: str):
    """COPY every common purchase and refund as it comes; keep the reversals (a
    reversal may come before its purchase) and the rare records for after. Returns
    (records copied, reversals, rare records)."""
    reversals: list[tuple[str, int, tuple[str, ...], str, int]] = []
    rare: list[Texts] = []
    owner = owners.owner.get
    chunk: list[str] = []
    out = chunk.append
    common = str(rule.PURCHASE_FEN)  # a valid integer has one text form: "10" is 10
    figures = f"\t{common}\t{common}\t"  # bank_fen and fen of the common case
    count = 0
    # txn_time goes as ISO 8601's basic form in Beijing time (YYYYMMDDTHHMMSS+08)
    for line, f in records:
        txn, card, vno, tt, typ, _orig, channel, mcc, bank = f
        tally = owner(card)
        if tally is None or tally[0] != vno:
            rare.append((line, f))
            continue
        if typ == "PURCHASE" and bank == common:
            # nine records in ten: the volunteer donates, no flag
            tally[1] += 1
            out(
                f"{txn}\t{line}\t{card}\t{vno}\t{tt[:8]}T{tt[8:]}+08\tPURCHASE\t\\N\t{channel}\t{mcc}"
                f"{figures}{vno}\t0{tail}"
            )
        elif typ == "REVERSAL":
            reversals.append((tt, line, f, vno, 0))  # sorts by time, then line
            continue
        else:
            out(_row(line, f, _fen(typ), vno, 0, totals) + tail)
        if len(chunk) >= BATCH:
            count += len(chunk)
            copy.write("".join(chunk))
            chunk.clear()
    if chunk:
        count += len(chunk)
        copy.write("".join(chunk))
    return count, reversals, rare


def _fen(txn_type: str) -> int:
    """SVA's figure for a purchase or a refund (a reversal's depends on its purchase)."""
    return rule.PURCHASE_FEN if txn_type == "PURCHASE" else 0


def _row(line: int, f: tuple[str, ...], fen: int, ben: str, flags: int, totals: _Totals) -> str:
    """A record's row (without the file's columns) with SVA's figure ``fen``, the bank's
    compared with it, added to the day's totals (a reversal counts when it takes back)."""
    txn, card, vno, tt, typ, orig, channel, mcc, bank = f
    bank_fen = int(bank)
    if bank_fen != fen:
        flags |= rule.BANK_DIFFERS
    totals.add(
        ben, int(typ == "PURCHASE"), int(typ == "REVERSAL" and fen != 0), fen, bank_fen, int(flags != 0)
    )
    return (
        f"{txn}\t{line}\t{card}\t{vno}\t{tt[:8]}T{tt[8:]}+08\t{typ}\t{orig or NULL}\t{channel}\t{mcc}\t"
        f"{bank_fen}\t{fen}\t{ben}\t{flags}"
    )


def _rare_rows(cur, rare: list[Texts], reversals: list, totals: _Totals, tail: str) -> list[str]:
    """The rare purchases' and refunds' rows; the rare reversals join ``reversals``."""
    rows = []
    if rare:
        for line, f, ben, flags in _own(cur, rare):
            if f[4] == "REVERSAL":
                reversals.append((f[3], line, f, ben, flags))
            else:
                rows.append(_row(line, f, _fen(f[4]), ben, flags, totals) + tail)
    return rows


def _reversals(cur, reversals, totals: _Totals):
    """The file's reversals, earliest first (time, then line): rows to COPY (without the
    file's columns) and the (purchase, reversal) pairs that took a donation back. A
    reversal's purchase is looked up in ``swipes``, where this file's purchases are by
    now (same transaction) beside every earlier file's, by ``= ANY`` of their ids (the
    planner probes the primary key, or scans when they are a large part of the table)."""
    purchases: dict[str, str] = {}
    taken: set[str] = set()
    if reversals:
        cur.execute(
            "SELECT w.txn_id, w.beneficiary, x.orig_txn_id IS NOT NULL FROM swipes w "
            "LEFT JOIN swipe_reversals x ON x.orig_txn_id = w.txn_id "
            "WHERE w.txn_id = ANY(%s::text[]) AND w.txn_type = 'PURCHASE'",
            # One array literal, not a list the driver would check and quote element by
            # element. Each id quoted: an unquoted NULL (a valid txn_id) would be SQL NULL;
            # the ids are A-Z0-9, so nothing inside needs escaping.
            ('{"' + '","'.join({r[2][5] for r in reversals}) + '"}',),
        )
        for txn, ben, done in cur.fetchall():
            purchases[txn] = ben
            if done:
                taken.add(txn)
    rows, valid = [], []
    reversals.sort()  # earliest first: time, then line
    for _t, line, f, own_ben, flags in reversals:
        txn, orig = f[0], f[5]
        purchase_ben = purchases.get(orig)
        if purchase_ben is None:
            fen, ben, flags = 0, own_ben, flags | rule.REVERSAL_OF_NOTHING
        elif orig in taken:
            fen, ben, flags = 0, own_ben, flags | rule.REVERSED_TWICE
        else:
            taken.add(orig)
            valid.append((orig, txn))
            fen, ben = rule.REVERSAL_FEN, purchase_ben
        rows.append(_row(line, f, fen, ben, flags, totals))
    # in key order: the primary key's pages are then visited once each, not at random
    return sorted(rows), sorted(valid)


_STORE_DAYS = f"""
INSERT INTO donation_days (day, volunteer_no, purchases, reversals, computed_fen, bank_fen, flagged)
SELECT * FROM swipe_days
{ADD_UP}
"""  # noqa: S608 (module constants only)


def _store_totals(cur, day: date, lines: list[str]) -> None:
    """Add the day's totals (COPY lines of ``donation_days``, in key order). The day's
    first file (the usual case) COPYs them in; a later one (a second SEQ) adds to the
    rows there through a temporary table."""
    cur.execute("SELECT 1 FROM donation_days WHERE day = %s LIMIT 1", (day,))
    if cur.fetchone() is None:  # another worker's rows meanwhile fail the primary key
        _copy(
            cur,
            "donation_days (day, volunteer_no, purchases, reversals, computed_fen, bank_fen, flagged)",
            lines,
        )
        return
    cur.execute("DROP TABLE IF EXISTS swipe_days")  # a caller may apply several files in one transaction
    cur.execute(
        "CREATE TEMP TABLE swipe_days (day date, volunteer_no varchar(10), purchases integer, reversals integer, "
        "computed_fen integer, bank_fen bigint, flagged integer) ON COMMIT DROP"
    )
    _copy(cur, "swipe_days", lines)
    cur.execute(_STORE_DAYS)
