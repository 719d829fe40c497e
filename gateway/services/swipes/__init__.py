"""SWIPE ingestion: one day's bank transactions applied by the donation rule.

The exchange engine opens and reads the file and calls :class:`SwipeHandler` inside the
file's one transaction; a crash anywhere rolls all of it back with the file (the engine's
exactly-once gate). The handler hands the records to a :class:`SwipeStore`, chosen by
database in :func:`store_for` alone:

* :class:`DomainStore` (``domain_store``), the **general way**: the domain's rule
  (``gateway.domain.donations.apply_day``) as it stands, rows written by SQLAlchemy bulk
  inserts. Any file, any database: SQLite's way (the embedded default).
* :class:`CopyStore` (``copy_store``), PostgreSQL's **direct way**: the rule applied on
  the records' field texts as they stream, ``COPY``ed straight into the tables. A
  ``txn_id`` there already (a resend, twice in the file) hands the file back to the
  engine (``ApplyAgain``), which applies it again through the general way.

The tests hold both to the rule, record by record and day by day.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from gateway.models.exchange import ExchangeFile
from gateway.services.swipes.copy_store import CopyStore
from gateway.services.swipes.domain_store import DomainStore
from gateway.services.swipes.store import SwipeStore, SwipeSummary, Texts
from schemas.reader import Header, Record

__all__ = ["CopyStore", "DomainStore", "SwipeHandler", "SwipeStore", "SwipeSummary", "store_for"]


def store_for(session: Session) -> SwipeStore:
    """The store for the session's database: COPY on PostgreSQL, the rule elsewhere."""
    return CopyStore() if session.get_bind().dialect.name == "postgresql" else DomainStore()


class SwipeHandler:
    """The engine's inbound handler for the bank's SWIPE files."""

    file_type = "SWIPE"

    def apply_texts(
        self, session: Session, file: ExchangeFile, header: Header, records: Iterator[Texts]
    ) -> None:
        self._note(file, store_for(session).apply_texts(session, file.id, header.business_date, records))

    def apply(self, session: Session, file: ExchangeFile, header: Header, records: Iterator[Record]) -> None:
        self._note(file, store_for(session).apply(session, file.id, header.business_date, records))

    @staticmethod
    def _note(file: ExchangeFile, summary: SwipeSummary) -> None:
        file.detail = (
            f"{summary.records} records: {summary.stored} stored, {summary.duplicates} duplicates, "
            f"{summary.flagged} flagged; computed {summary.computed_fen} fen, bank {summary.bank_fen} fen "
            f"({summary.way} way)"
        )
