"""Hand-made SWIPE records and the volunteers and cards they name, for the donation tests."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from gateway.domain import donations as rule
from gateway.models.donations import DonationDay, Swipe, SwipeDuplicate, SwipeReversal
from gateway.partners.fund import exchange as fund_exchange
from gateway.services import swipes
from gateway.services.channels import ApplyAgain
from schemas import writer
from schemas.reader import Record, read
from tests.services.foundation_helpers import first_card, official

_file_ids = iter(range(1000, 10**6))
_donation_files = iter(range(10**6, 2 * 10**6))


def person(db, card_id: str, deregistered_at: datetime | None = None):
    """An official volunteer whose card has the bank token ``card_id``."""
    v = official(db)
    first_card(v).card_id = card_id
    v.deregistered_at = deregistered_at
    db.flush()
    return v


def swipe(
    txn_id: str,
    volunteer_no: str,
    at: datetime,
    kind: str = "PURCHASE",
    orig: str | None = None,
    card_id: str = "CARD000000000001",
    fen: int | None = None,
) -> dict:
    """One SWIPE record; ``at`` is Beijing wall time (as in the file)."""
    default = {"PURCHASE": 10, "REFUND": 0, "REVERSAL": -10}[kind]
    return {
        "txn_id": txn_id,
        "card_id": card_id,
        "volunteer_no": volunteer_no,
        "txn_time": at,
        "txn_type": kind,
        "orig_txn_id": orig,
        "channel": "POS",
        "mcc": "5812",
        "donation_fen": default if fen is None else fen,
    }


def apply(db, day: date, records: list[dict], general: bool = False) -> swipes.SwipeSummary:
    """Apply one day's file (records in the given line order, header at line 1) as the
    exchange engine does, through the database's store (``swipes.store_for``): the
    records as field texts first (written as the bank writes them and read back), then,
    when the store asks for it (ApplyAgain: SQLite always, PostgreSQL on a txn_id there
    already), as typed records from a clean state. ``general``: the general way (the
    domain store) at once, on any database."""
    file_id = next(_file_ids)
    typed = (Record(i, "SWIPE", dict(r)) for i, r in enumerate(records, start=2))
    store = swipes.DomainStore() if general else swipes.store_for(db)
    attempt = db.begin_nested()  # the engine rolls the whole file back; here, to this point
    try:
        summary = store.apply_texts(db, file_id, day, texts(day, records))
    except ApplyAgain:
        attempt.rollback()
        return store.apply(db, file_id, day, typed)
    attempt.commit()
    return summary


def direct_way(db) -> str:
    """The way a file without a txn_id seen before goes: "direct" on PostgreSQL, "general"
    on SQLite (the direct way is PostgreSQL's only)."""
    return "direct" if db.connection().dialect.name == "postgresql" else "general"


def texts(day: date, records: list[dict]) -> list:
    """The records as the reader gives them to the direct way: written, then read."""
    plain, result = writer.write_bytes(
        "SWIPE", records, sender="BOCSZ", receiver="SVA", business_date=day, seq=1,
        created_time=datetime.combine(day, datetime.min.time()) + timedelta(hours=26),
    )  # fmt: skip
    assert not result.refused, result.refused
    errors: list = []
    out = list(
        read(io.BytesIO(plain), file_name=result.file_name, sender="BOCSZ", receiver="SVA").texts(errors)
    )
    assert not errors, errors
    return out


def stored(db, txn_id: str) -> Swipe:
    return db.scalars(select(Swipe).where(Swipe.txn_id == txn_id)).one()


def reversed_by(db, txn_id: str) -> str | None:
    """The reversal that took this purchase's donation back."""
    row = db.get(SwipeReversal, txn_id)
    return row.txn_id if row else None


def flags(db, txn_id: str) -> set[str]:
    return set(rule.flag_names(stored(db, txn_id).flags))


def duplicates(db, txn_id: str) -> list[SwipeDuplicate]:
    return list(db.scalars(select(SwipeDuplicate).where(SwipeDuplicate.txn_id == txn_id)))


def day_totals(db, volunteer_no: str) -> dict[date, tuple[int, int, int, int]]:
    """day -> (purchases, reversals, computed_fen, bank_fen) of one beneficiary."""
    rows = db.scalars(select(DonationDay).where(DonationDay.volunteer_no == volunteer_no))
    return {d.day: (d.purchases, d.reversals, d.computed_fen, d.bank_fen) for d in rows}


def at(day: date, hh: int = 10, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss)


def utc_of(local: datetime):
    from datetime import UTC

    return (local - timedelta(hours=8)).replace(tzinfo=UTC)


def receipts(db, *lines: tuple[str, str, int], period: str = "202611") -> None:
    """Apply a DONATION file of (receipt_id, volunteer_no, amount_fen) lines."""
    f = SimpleNamespace(id=next(_donation_files), name="DONATION_SZVF_20261208_001.txt.p7m", detail=None)
    records = (
        Record(i, "DONATION", {"receipt_id": rid, "volunteer_no": no, "period": period, "amount_fen": fen,
                               "received_date": date(2026, 12, 8)})
        for i, (rid, no, fen) in enumerate(lines, start=2)
    )  # fmt: skip
    fund_exchange.DonationHandler().apply(db, f, None, records)
