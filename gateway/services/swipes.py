"""SWIPE ingestion: one day's bank transactions applied by the donation rule, set-based.

The exchange engine opens and reads the file and calls :class:`SwipeHandler` inside the
file's one transaction. The records are staged in a temporary table (PostgreSQL ``COPY``;
SQLite batched ``executemany``), then the rule of ``gateway.domain.donations`` is applied
by a handful of set-based statements, after every record is staged so that a reversal
listed before its purchase still finds it:

1. ``swipe_res``: each staged record with its own beneficiary (volunteer or campaign, by
   the deregistration instant), its card/volunteer flags, and whether it is a duplicate
   (``txn_id`` already stored, or at a lower line of this file);
2. ``swipe_rev``: each reversal matched against a purchase stored earlier or staged now,
   not yet reversed (the earliest reversal of one purchase wins);
3. ``swipe_out``: SVA's figure, the beneficiary and the flags of every record;
4. ``swipes`` / ``swipe_duplicates`` inserted from it, purchases marked reversed, and the
   per-beneficiary, per-day totals (``donation_days``) upserted by ``GROUP BY``.

A crash anywhere rolls all of it back with the file (the engine's exactly-once gate).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from gateway.domain import donations as rule
from gateway.models.exchange import ExchangeFile
from gateway.services import channels
from schemas.reader import Header, Record

log = logging.getLogger("svcard.swipes")

BATCH = 20_000
NULL = "\\N"  # COPY text format
_BEIJING_OFFSET = timedelta(hours=8)
_COLUMNS = "line, txn_id, card_id, volunteer_no, txn_time, txn_type, orig_txn_id, channel, mcc, bank_fen"


@dataclass
class SwipeSummary:
    """What one SWIPE file did."""

    records: int = 0
    stored: int = 0
    duplicates: int = 0
    flagged: int = 0
    computed_fen: int = 0
    bank_fen: int = 0


class SwipeHandler:
    """The engine's inbound handler for the bank's SWIPE files."""

    file_type = "SWIPE"

    def apply(self, session: Session, file: ExchangeFile, header: Header, records: Iterator[Record]) -> None:
        summary = apply_swipes(session, file.id, header.business_date, records)
        file.detail = (
            f"{summary.records} records: {summary.stored} stored, {summary.duplicates} duplicates, "
            f"{summary.flagged} flagged; computed {summary.computed_fen} fen, bank {summary.bank_fen} fen"
        )


channels.register("BOCSZ", inbound=[SwipeHandler()])


def apply_swipes(session: Session, file_id: int, day: date, records: Iterable[Record]) -> SwipeSummary:
    """Apply one SWIPE file's valid records (business date ``day``) in the caller's
    transaction; returns what it did."""
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    for name in ("swipe_stage", "swipe_res", "swipe_rev", "swipe_out"):
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    on_commit = " ON COMMIT DROP" if postgres else ""
    ts = "timestamptz" if postgres else "TEXT"
    conn.execute(
        text(
            f"CREATE TEMP TABLE swipe_stage (line integer, txn_id varchar(24), card_id varchar(16), "
            f"volunteer_no varchar(10), txn_time {ts}, txn_type varchar(8), orig_txn_id varchar(24), "
            f"channel varchar(6), mcc varchar(4), bank_fen integer){on_commit}"
        )
    )
    if postgres:
        _copy_stage(conn, records)
    else:
        _insert_stage(conn, records)
    _resolve(conn, file_id, day, on_commit, postgres)
    row = conn.execute(
        text(
            "SELECT count(*), coalesce(sum(dup), 0), coalesce(sum(CASE WHEN flags <> 0 THEN 1 ELSE 0 END), 0), "
            "coalesce(sum(fen), 0), coalesce(sum(bank_fen), 0) FROM swipe_out"
        )
    ).one()
    summary = SwipeSummary(
        records=row[0],
        stored=row[0] - row[1],
        duplicates=row[1],
        flagged=row[2],
        computed_fen=row[3],
        bank_fen=row[4],
    )
    if not postgres:
        for name in ("swipe_stage", "swipe_res", "swipe_rev", "swipe_out"):
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    log.info("SWIPE %s (file %s): %s", day, file_id, summary)
    return summary


def _copy_stage(conn, records: Iterable[Record]) -> None:
    """PostgreSQL: COPY the records in text format (fields are A-Z0-9: nothing to escape)."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY swipe_stage ({_COLUMNS}) FROM STDIN") as copy:
        chunk: list[str] = []
        for line, _t, d in records:
            chunk.append(
                f"{line}\t{d['txn_id']}\t{d['card_id']}\t{d['volunteer_no']}\t{d['txn_time']}+08\t"
                f"{d['txn_type']}\t{d['orig_txn_id'] or NULL}\t{d['channel']}\t{d['mcc']}\t"
                f"{d['donation_fen']}\n"
            )
            if len(chunk) >= BATCH:
                copy.write("".join(chunk))
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))


def _utc_text(local: datetime) -> str:
    # SQLite keeps UTC instants as naive text in SQLAlchemy's format; txn_time is Beijing.
    return (local - _BEIJING_OFFSET).strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert_stage(conn, records: Iterable[Record]) -> None:
    raw = conn.connection.driver_connection
    sql = f"INSERT INTO swipe_stage ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
    batch: list[tuple] = []
    cur = raw.cursor()
    try:
        for line, _t, d in records:
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
                )
            )
            if len(batch) >= BATCH:
                cur.executemany(sql, batch)
                batch.clear()
        if batch:
            cur.executemany(sql, batch)
    finally:
        cur.close()


def _resolve(conn, file_id: int, day: date, on_commit: str, postgres: bool) -> None:
    r = rule
    conn.execute(
        text(
            f"""
        CREATE TEMP TABLE swipe_res{on_commit} AS
        SELECT s.line, s.txn_id, s.card_id, s.volunteer_no, s.txn_time, s.txn_type, s.orig_txn_id,
               s.channel, s.mcc, s.bank_fen,
               CASE WHEN v.id IS NULL
                      OR (v.deregistered_at IS NOT NULL AND s.txn_time >= v.deregistered_at)
                    THEN '{r.CAMPAIGN}' ELSE s.volunteer_no END AS own,
               CASE WHEN v.id IS NULL THEN {r.UNKNOWN_VOLUNTEER} ELSE 0 END
               + CASE WHEN c.id IS NULL THEN {r.UNKNOWN_CARD}
                      WHEN v.id IS NULL OR c.volunteer_id <> v.id THEN {r.CARD_OTHER_VOLUNTEER}
                      ELSE 0 END AS base_flags,
               CASE WHEN w.txn_id IS NOT NULL
                      OR row_number() OVER (PARTITION BY s.txn_id ORDER BY s.line) > 1
                    THEN 1 ELSE 0 END AS dup
        FROM swipe_stage s
        LEFT JOIN volunteers v ON v.volunteer_no = s.volunteer_no
        LEFT JOIN cards c ON c.card_id = s.card_id
        LEFT JOIN swipes w ON w.txn_id = s.txn_id
        """  # noqa: S608 (module constants only)
        )
    )
    if not postgres:  # SQLite joins a temp table to itself by index only
        conn.execute(text("CREATE INDEX swipe_res_txn ON swipe_res (txn_id)"))
    else:
        conn.execute(text("ANALYZE swipe_res"))
    conn.execute(
        text(
            f"""
        CREATE TEMP TABLE swipe_rev{on_commit} AS
        SELECT r.line, r.txn_id, r.orig_txn_id,
               COALESCE(p1.beneficiary, p2.own) AS purchase_beneficiary,
               CASE WHEN p1.txn_id IS NULL AND p2.txn_id IS NULL THEN {r.REVERSAL_OF_NOTHING}
                    WHEN p1.reversed_by IS NOT NULL THEN {r.REVERSED_TWICE}
                    WHEN row_number() OVER (PARTITION BY r.orig_txn_id ORDER BY r.txn_time, r.line) > 1
                    THEN {r.REVERSED_TWICE}
                    ELSE 0 END AS rflag
        FROM swipe_res r
        LEFT JOIN swipes p1 ON p1.txn_id = r.orig_txn_id AND p1.txn_type = 'PURCHASE'
        LEFT JOIN swipe_res p2 ON p2.txn_id = r.orig_txn_id AND p2.txn_type = 'PURCHASE' AND p2.dup = 0
        WHERE r.txn_type = 'REVERSAL' AND r.dup = 0
        """  # noqa: S608 (module constants only)
        )
    )
    # The row_number above ranks reversals of nothing too; only a real purchase's matter,
    # and those share one orig_txn_id, so the rank among them is the rank among all.
    conn.execute(
        text(
            f"""
        CREATE TEMP TABLE swipe_out{on_commit} AS
        SELECT x.*,
               x.base + CASE WHEN x.bank_fen <> x.fen THEN {r.BANK_DIFFERS} ELSE 0 END AS flags
        FROM (
          SELECT r.line, r.txn_id, r.card_id, r.volunteer_no, r.txn_time, r.txn_type, r.orig_txn_id,
                 r.channel, r.mcc, r.bank_fen, r.dup,
                 CASE WHEN r.dup = 1 THEN 0
                      WHEN r.txn_type = 'PURCHASE' THEN {r.PURCHASE_FEN}
                      WHEN r.txn_type = 'REVERSAL' AND v.rflag = 0 THEN {r.REVERSAL_FEN}
                      ELSE 0 END AS fen,
                 CASE WHEN r.dup = 0 AND v.rflag = 0 THEN v.purchase_beneficiary ELSE r.own END
                   AS beneficiary,
                 CASE WHEN r.dup = 1 THEN {r.DUPLICATE}
                      ELSE r.base_flags + COALESCE(v.rflag, 0) END AS base
          FROM swipe_res r LEFT JOIN swipe_rev v ON v.line = r.line
        ) x
        """  # noqa: S608 (module constants only)
        )
    )
    params = {"file_id": file_id, "day": day}
    day_param = bindparam("day", type_=Date)
    conn.execute(
        text(
            """
        INSERT INTO swipes (txn_id, file_id, line, card_id, volunteer_no, txn_time, day, txn_type,
                            orig_txn_id, channel, mcc, bank_fen, fen, beneficiary, flags)
        SELECT txn_id, :file_id, line, card_id, volunteer_no, txn_time, :day, txn_type,
               orig_txn_id, channel, mcc, bank_fen, fen, beneficiary, flags
        FROM swipe_out WHERE dup = 0
        """
        ).bindparams(day_param),
        params,
    )
    conn.execute(
        text(
            """
        INSERT INTO swipe_duplicates (file_id, line, txn_id, card_id, volunteer_no, txn_time, day,
                                      txn_type, orig_txn_id, bank_fen, beneficiary, flags)
        SELECT :file_id, line, txn_id, card_id, volunteer_no, txn_time, :day,
               txn_type, orig_txn_id, bank_fen, beneficiary, flags
        FROM swipe_out WHERE dup = 1
        """
        ).bindparams(day_param),
        params,
    )
    conn.execute(
        text(
            """
        UPDATE swipes SET reversed_by = v.txn_id
        FROM swipe_rev v
        WHERE v.rflag = 0 AND swipes.txn_id = v.orig_txn_id
        """
        )
    )
    conn.execute(
        text(
            """
        INSERT INTO donation_days (day, volunteer_no, purchases, reversals, computed_fen, bank_fen, flagged)
        SELECT :day, beneficiary,
               sum(CASE WHEN dup = 0 AND txn_type = 'PURCHASE' THEN 1 ELSE 0 END),
               sum(CASE WHEN txn_type = 'REVERSAL' AND fen <> 0 THEN 1 ELSE 0 END),
               sum(fen), sum(bank_fen),
               sum(CASE WHEN flags <> 0 THEN 1 ELSE 0 END)
        FROM swipe_out WHERE 1 = 1
        GROUP BY beneficiary
        ON CONFLICT (day, volunteer_no) DO UPDATE SET
          purchases = donation_days.purchases + excluded.purchases,
          reversals = donation_days.reversals + excluded.reversals,
          computed_fen = donation_days.computed_fen + excluded.computed_fen,
          bank_fen = donation_days.bank_fen + excluded.bank_fen,
          flagged = donation_days.flagged + excluded.flagged
        """
        ).bindparams(day_param),
        params,
    )
