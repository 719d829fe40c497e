"""SWIPE ingestion: one day's bank transactions applied by the donation rule, two ways.

The exchange engine opens and reads the file and calls :class:`SwipeHandler` inside the
file's one transaction; a crash anywhere rolls all of it back with the file (the engine's
exactly-once gate). Both ways are tested against the reference rule
(``gateway.domain.donations``) and each other.

**The direct way** (:func:`apply_swipe_texts`, PostgreSQL; the engine's first call, with
the records as field texts from ``Reader.texts``): the rule applied in Python as the
records stream in, one look-up per record for the common case (a volunteer's purchase on
the volunteer's own card), every purchase and refund ``COPY``ed straight into ``swipes``
with its figure, beneficiary and flags; reversals (one may come before its purchase) and
rare records (unknown or another's card, unknown number, deregistered volunteer) decided
at the end; the day's totals counted on the way. It never looks for duplicates: the
``txn_id`` primary key does, and when it fails (a bank resend, a ``txn_id`` twice in the
file, another worker first) the handler raises
:class:`~gateway.services.channels.ApplyAgain` and the engine applies the file again the
general way.

**The general way** (:func:`apply_swipes`: any file, SQLite always): the records staged
in a temporary table (PostgreSQL ``COPY``; SQLite batched ``executemany``), then a handful
of set-based statements, after every record is staged so that a reversal listed before
its purchase still finds it:

1. ``swipe_rev``: each reversal matched against a purchase stored earlier or staged now,
   not yet reversed (the earliest reversal of one purchase wins);
2. SVA's figure, the beneficiary (volunteer or campaign, by the deregistration instant)
   and the flags of every record not a duplicate (``txn_id`` already stored, or at a
   lower line of this file);
3. ``swipes`` / ``swipe_duplicates`` inserted from it, purchases marked reversed, and the
   per-beneficiary, per-day totals (``donation_days``) upserted by ``GROUP BY``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg.errors
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from gateway.domain import donations as rule
from gateway.models.exchange import ExchangeFile
from gateway.services.channels import ApplyAgain
from gateway.timeutil import as_beijing
from schemas.reader import Header, Record

log = logging.getLogger("svcard.swipes")

BATCH = 20_000
WORK_MEM = "64MB"  # for this transaction only (SET LOCAL)
NULL = "\\N"  # COPY text format
_BEIJING_OFFSET = timedelta(hours=8)
_COLUMNS = "line, txn_id, card_id, volunteer_no, txn_time, txn_type, orig_txn_id, channel, mcc, bank_fen, dup"
_TEMP_TABLES = ("swipe_stage", "swipe_rev", "swipe_out", "swipe_seen")
Texts = tuple[int, tuple[str, ...]]  # (line, field texts): schemas.reader.Reader.texts


@dataclass
class SwipeSummary:
    """What one SWIPE file did."""

    records: int = 0
    stored: int = 0
    duplicates: int = 0
    flagged: int = 0
    computed_fen: int = 0
    bank_fen: int = 0
    way: str = "general"  # or "direct" (PostgreSQL, no txn_id there already)


class SwipeHandler:
    """The engine's inbound handler for the bank's SWIPE files."""

    file_type = "SWIPE"

    def apply_texts(
        self, session: Session, file: ExchangeFile, header: Header, records: Iterator[Texts]
    ) -> None:
        self._note(file, apply_swipe_texts(session, file.id, header.business_date, records))

    def apply(self, session: Session, file: ExchangeFile, header: Header, records: Iterator[Record]) -> None:
        self._note(file, apply_swipes(session, file.id, header.business_date, records))

    @staticmethod
    def _note(file: ExchangeFile, summary: SwipeSummary) -> None:
        file.detail = (
            f"{summary.records} records: {summary.stored} stored, {summary.duplicates} duplicates, "
            f"{summary.flagged} flagged; computed {summary.computed_fen} fen, bank {summary.bank_fen} fen "
            f"({summary.way} way)"
        )


def apply_swipes(session: Session, file_id: int, day: date, records: Iterable[Record]) -> SwipeSummary:
    """The general way: apply one SWIPE file's valid records (business date ``day``) in
    the caller's transaction; returns what it did."""
    conn = _Timed(session.connection())
    postgres = conn.dialect.name == "postgresql"
    for name in _TEMP_TABLES:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    on_commit = " ON COMMIT DROP" if postgres else ""
    ts = "timestamptz" if postgres else "TEXT"
    conn.execute(
        text(
            f"CREATE TEMP TABLE swipe_stage (line integer, txn_id varchar(24), card_id varchar(16), "
            f"volunteer_no varchar(10), txn_time {ts}, txn_type varchar(8), orig_txn_id varchar(24), "
            f"channel varchar(6), mcc varchar(4), bank_fen bigint, dup smallint){on_commit}"
        )
    )
    t = time.perf_counter()
    summary = SwipeSummary()
    rows = _tally(records, summary)
    if postgres:
        _copy_stage(conn, rows)
    else:
        _insert_stage(conn, rows)
        conn.execute(text("CREATE INDEX swipe_stage_txn ON swipe_stage (txn_id)"))
    conn.stages.append(("stage", time.perf_counter() - t))
    params = {"file_id": file_id, "day": day}
    if postgres:  # temporary tables get no statistics on their own: without them, nested loops
        conn.execute(text("ANALYZE swipe_stage"))
        # the day's GROUP BY and hash joins over a million rows, in memory rather than on disk
        conn.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    conn.execute(text(_REVERSALS.format(on_commit=on_commit, **_SQL)))
    if postgres:
        conn.execute(text("ANALYZE swipe_rev"))
        conn.execute(text(_SEEN_PG))
        stored, computed, flagged = conn.execute(_bind(_APPLY_PG), params).one()
    else:
        stored, computed, flagged = _apply_generic(conn, params)
    db_dups = summary.records - summary.duplicates - stored
    if summary.duplicates or db_dups:
        where = "s.dup = 1" if not db_dups else _NOT_STORED
        conn.execute(_bind(_DUPLICATES.format(where=where, **_SQL)), params)
        conn.execute(_bind(_DUPLICATE_DAYS), params)
    summary.stored, summary.duplicates = stored, summary.records - stored
    summary.computed_fen, summary.flagged = int(computed or 0), int(flagged or 0) + summary.duplicates
    if not postgres:
        for name in _TEMP_TABLES:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    log.info("SWIPE %s (file %s): %s", day, file_id, summary)
    log.debug("SWIPE %s stages: %s", day, ", ".join(f"{n} {s:.2f}s" for n, s in conn.stages))
    return summary


def _tally(records: Iterable[Record], summary: SwipeSummary) -> Iterator[tuple[int, dict, int]]:
    """(line, data, in-file duplicate) for each record, counting as it goes. A txn_id at a
    lower line of the same file wins (records come in line order)."""
    seen: set[str] = set()
    add = seen.add
    for line, _t, d in records:
        summary.records += 1
        summary.bank_fen += d["donation_fen"]
        txn = d["txn_id"]
        if txn in seen:
            summary.duplicates += 1
            yield line, d, 1
        else:
            add(txn)
            yield line, d, 0


class _Timed:
    """The connection, noting how long each statement takes (debug log: where a day's
    file spends its time)."""

    def __init__(self, conn) -> None:
        self.conn, self.stages = conn, []
        self.dialect, self.connection = conn.dialect, conn.connection

    def execute(self, statement, *args):
        t = time.perf_counter()
        result = self.conn.execute(statement, *args)
        words = str(statement).split()
        self.stages.append((" ".join(words[:4]), time.perf_counter() - t))
        return result


def _copy_stage(conn, rows: Iterable[tuple[int, dict, int]]) -> None:
    """PostgreSQL: COPY the records in text format (fields are A-Z0-9: nothing to escape)."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY swipe_stage ({_COLUMNS}) FROM STDIN") as copy:
        chunk: list[str] = []
        for line, d, dup in rows:
            chunk.append(
                f"{line}\t{d['txn_id']}\t{d['card_id']}\t{d['volunteer_no']}\t{d['txn_time']}+08\t"
                f"{d['txn_type']}\t{d['orig_txn_id'] or NULL}\t{d['channel']}\t{d['mcc']}\t"
                f"{d['donation_fen']}\t{dup}\n"
            )
            if len(chunk) >= BATCH:
                copy.write("".join(chunk))
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))


def _utc_text(local: datetime) -> str:
    # SQLite keeps UTC instants as naive text in SQLAlchemy's format; txn_time is Beijing.
    return (local - _BEIJING_OFFSET).strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert_stage(conn, rows: Iterable[tuple[int, dict, int]]) -> None:
    raw = conn.connection.driver_connection
    sql = f"INSERT INTO swipe_stage ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
    batch: list[tuple] = []
    cur = raw.cursor()
    try:
        for line, d, dup in rows:
            batch.append(
                (
                    line,
                    d["txn_id"],
                    d["card_id"],
                    d["volunteer_no"],
                    _utc_text(d["txn_time"]),
                    d["txn_type"],
                    d["orig_txn_id"],
                    d["channel"],
                    d["mcc"],
                    d["donation_fen"],
                    dup,
                )
            )
            if len(batch) >= BATCH:
                cur.executemany(sql, batch)
                batch.clear()
        if batch:
            cur.executemany(sql, batch)
    finally:
        cur.close()


# ------------------------------------------------------------------ the rule, set-based
# Only module constants are formatted into these statements; values are bound.


def _own_sql(s: str, v: str) -> str:
    """The record's own beneficiary: the campaign for a number unknown to SVA or a time at
    or after the volunteer's deregistration instant."""
    return (
        f"CASE WHEN {v}.id IS NULL OR ({v}.deregistered_at IS NOT NULL AND {s}.txn_time >= {v}.deregistered_at) "
        f"THEN '{rule.CAMPAIGN}' ELSE {s}.volunteer_no END"
    )


_SQL = {
    "own": _own_sql("s", "v"),
    "own_p": _own_sql("p", "pv"),
    "base_flags": (
        f"(CASE WHEN v.id IS NULL THEN {rule.UNKNOWN_VOLUNTEER} ELSE 0 END"
        f" + CASE WHEN c.id IS NULL THEN {rule.UNKNOWN_CARD}"
        f" WHEN v.id IS NULL OR c.volunteer_id <> v.id THEN {rule.CARD_OTHER_VOLUNTEER} ELSE 0 END)"
    ),
    "nothing": rule.REVERSAL_OF_NOTHING,
    "twice": rule.REVERSED_TWICE,
    "purchase": rule.PURCHASE_FEN,
    "reversal": rule.REVERSAL_FEN,
    "differs": rule.BANK_DIFFERS,
    "duplicate": rule.DUPLICATE,
}

# Each reversal of this file (not a duplicate) against the purchase it names: a stored
# transaction wins over a staged one (the staged copy would be its duplicate); the
# earliest reversal (time, then line) of a purchase not yet reversed takes it back.
_REVERSALS = """
CREATE TEMP TABLE swipe_rev{on_commit} AS
SELECT r.line, r.txn_id, r.orig_txn_id,
       CASE WHEN w.txn_id IS NOT NULL THEN w.beneficiary ELSE {own_p} END AS purchase_beneficiary,
       CASE WHEN (CASE WHEN w.txn_id IS NOT NULL THEN w.txn_type <> 'PURCHASE' ELSE p.txn_id IS NULL END)
              THEN {nothing}
            WHEN x.orig_txn_id IS NOT NULL THEN {twice}
            WHEN row_number() OVER (PARTITION BY r.orig_txn_id ORDER BY r.txn_time, r.line) > 1 THEN {twice}
            ELSE 0 END AS rflag
FROM swipe_stage r
LEFT JOIN swipes w ON w.txn_id = r.orig_txn_id
LEFT JOIN swipe_stage p
  ON w.txn_id IS NULL AND p.txn_id = r.orig_txn_id AND p.txn_type = 'PURCHASE' AND p.dup = 0
LEFT JOIN volunteers pv ON pv.volunteer_no = p.volunteer_no
LEFT JOIN swipe_reversals x ON x.orig_txn_id = r.orig_txn_id
WHERE r.txn_type = 'REVERSAL' AND r.dup = 0
  AND NOT EXISTS (SELECT 1 FROM swipes d WHERE d.txn_id = r.txn_id)
"""

# Every staged record that is not an in-file duplicate, with SVA's figure and beneficiary.
_FIGURES = """
SELECT s.line, s.txn_id, s.card_id, s.volunteer_no, s.txn_time, s.txn_type, s.orig_txn_id,
       s.channel, s.mcc, s.bank_fen,
       CASE WHEN s.txn_type = 'PURCHASE' THEN {purchase} WHEN rv.rflag = 0 THEN {reversal} ELSE 0 END AS fen,
       CASE WHEN rv.rflag = 0 THEN rv.purchase_beneficiary ELSE {own} END AS beneficiary,
       {base_flags} + COALESCE(rv.rflag, 0) AS base{extra}
FROM swipe_stage s
LEFT JOIN volunteers v ON v.volunteer_no = s.volunteer_no
LEFT JOIN cards c ON c.card_id = s.card_id
LEFT JOIN swipe_rev rv ON rv.line = s.line
WHERE s.dup = 0
"""

_INSERT_SWIPES = f"""
INSERT INTO swipes (txn_id, file_id, line, card_id, volunteer_no, txn_time, day, txn_type,
                    orig_txn_id, channel, mcc, bank_fen, fen, beneficiary, flags)
SELECT txn_id, :file_id, line, card_id, volunteer_no, txn_time, :day, txn_type,
       orig_txn_id, channel, mcc, bank_fen, fen, beneficiary,
       base + CASE WHEN bank_fen <> fen THEN {rule.BANK_DIFFERS} ELSE 0 END
"""

_ADD_UP = """
ON CONFLICT (day, volunteer_no) DO UPDATE SET
  purchases = donation_days.purchases + excluded.purchases,
  reversals = donation_days.reversals + excluded.reversals,
  computed_fen = donation_days.computed_fen + excluded.computed_fen,
  bank_fen = donation_days.bank_fen + excluded.bank_fen,
  flagged = donation_days.flagged + excluded.flagged
"""

_DAY_TOTALS = """
INSERT INTO donation_days (day, volunteer_no, purchases, reversals, computed_fen, bank_fen, flagged)
SELECT :day, beneficiary,
       sum(CASE WHEN txn_type = 'PURCHASE' THEN 1 ELSE 0 END),
       sum(CASE WHEN txn_type = 'REVERSAL' AND fen <> 0 THEN 1 ELSE 0 END),
       sum(fen), sum(bank_fen), sum(CASE WHEN flags <> 0 THEN 1 ELSE 0 END)
"""

# PostgreSQL: store, mark reversed purchases and add to the day's totals in one pass
# (data-modifying CTEs). A txn_id stored by an earlier file is skipped through
# ``swipe_seen`` (found before this statement), not ON CONFLICT: speculative insertion
# made the statement half as slow again. Not an anti-join on ``swipes`` inside the
# statement either: on a small table the planner picks a sequential scan per row, and
# each scan wades through the rows this very statement inserts (quadratic). A file with
# the same txn_id committed meanwhile by another worker makes the primary key fail, and
# the engine applies this file again from the start (it then sees a duplicate).
_SEEN_PG = """
CREATE TEMP TABLE swipe_seen ON COMMIT DROP AS
SELECT s.line FROM swipe_stage s JOIN swipes w ON w.txn_id = s.txn_id WHERE s.dup = 0
"""

_APPLY_PG = f"""
WITH q AS ({_FIGURES.format(extra="", **_SQL)}),
ins AS (
  {_INSERT_SWIPES} FROM q WHERE NOT EXISTS (SELECT 1 FROM swipe_seen x WHERE x.line = q.line)
  RETURNING beneficiary, txn_type, fen, bank_fen, flags
),
rvs AS (INSERT INTO swipe_reversals (orig_txn_id, txn_id) SELECT orig_txn_id, txn_id FROM swipe_rev WHERE rflag = 0),
days AS ({_DAY_TOTALS} FROM ins GROUP BY beneficiary {_ADD_UP})
SELECT count(*), coalesce(sum(fen), 0), coalesce(sum(CASE WHEN flags <> 0 THEN 1 ELSE 0 END), 0) FROM ins
"""  # noqa: S608 (module constants only)

_NOT_STORED = (
    "s.dup = 1 OR NOT EXISTS (SELECT 1 FROM swipes w "
    "WHERE w.txn_id = s.txn_id AND w.file_id = :file_id AND w.line = s.line)"
)

_DUPLICATES = """
INSERT INTO swipe_duplicates (file_id, line, txn_id, card_id, volunteer_no, txn_time, day,
                              txn_type, orig_txn_id, bank_fen, beneficiary, flags)
SELECT :file_id, s.line, s.txn_id, s.card_id, s.volunteer_no, s.txn_time, :day,
       s.txn_type, s.orig_txn_id, s.bank_fen, {own},
       {duplicate} + CASE WHEN s.bank_fen <> 0 THEN {differs} ELSE 0 END
FROM swipe_stage s LEFT JOIN volunteers v ON v.volunteer_no = s.volunteer_no
WHERE {where}
"""

_DUPLICATE_DAYS = f"""
INSERT INTO donation_days (day, volunteer_no, purchases, reversals, computed_fen, bank_fen, flagged)
SELECT :day, beneficiary, 0, 0, 0, sum(bank_fen), count(*)
FROM swipe_duplicates WHERE file_id = :file_id
GROUP BY beneficiary
{_ADD_UP}
"""  # noqa: S608 (module constants only)


def _bind(sql: str):
    stmt = text(sql)
    return stmt.bindparams(bindparam("day", type_=Date)) if ":day" in sql else stmt


def _apply_generic(conn, params: dict) -> tuple[int, int, int]:
    """SQLite (no data-modifying CTEs): the same statements through a temporary table."""
    extra = ", CASE WHEN EXISTS (SELECT 1 FROM swipes w WHERE w.txn_id = s.txn_id) THEN 1 ELSE 0 END AS seen"
    conn.execute(text("CREATE TEMP TABLE swipe_out AS " + _FIGURES.format(extra=extra, **_SQL)))
    conn.execute(_bind(_INSERT_SWIPES + " FROM swipe_out WHERE seen = 0"), params)
    conn.execute(
        text(
            "INSERT INTO swipe_reversals (orig_txn_id, txn_id) SELECT orig_txn_id, txn_id FROM swipe_rev WHERE rflag = 0"
        )
    )
    flags = f"base + CASE WHEN bank_fen <> fen THEN {rule.BANK_DIFFERS} ELSE 0 END"
    conn.execute(
        _bind(
            _DAY_TOTALS.replace("flags <> 0", f"({flags}) <> 0")
            + " FROM swipe_out WHERE seen = 0 GROUP BY beneficiary"
            + _ADD_UP
        ),
        params,
    )
    row = conn.execute(
        text(
            f"SELECT count(*), coalesce(sum(fen), 0), "  # noqa: S608 (module constants only)
            f"coalesce(sum(CASE WHEN ({flags}) <> 0 THEN 1 ELSE 0 END), 0) FROM swipe_out WHERE seen = 0"
        )
    ).one()
    return row[0], row[1], row[2]


# ------------------------------------------------------------------ the direct way (PostgreSQL)
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


def apply_swipe_texts(session: Session, file_id: int, day: date, records: Iterable[Texts]) -> SwipeSummary:
    """The direct way: apply one SWIPE file's valid records, as field texts, in the
    caller's transaction. Raises :class:`ApplyAgain` — the caller rolls back and applies
    the file with :func:`apply_swipes` — on a database without it (SQLite) or when a
    ``txn_id`` is there already (twice in the file, stored before, or meanwhile)."""
    if session.connection().dialect.name != "postgresql":
        raise ApplyAgain
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
        # the general way deduplicates. The caller rolls this transaction back.
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
{_ADD_UP}
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
