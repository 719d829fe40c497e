"""The store interface of the SWIPE ingestion: where one day's file goes, and what it did."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy.orm import Session

from schemas.reader import Record

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
    way: str = "general"  # the rule as it stands; or "direct" (COPY on PostgreSQL)


class SwipeStore(Protocol):
    """Applies one SWIPE file's valid records (business date ``day``) by the donation rule
    in the caller's transaction, and says what it did."""

    def apply_texts(
        self, session: Session, file_id: int, day: date, records: Iterable[Texts]
    ) -> SwipeSummary:
        """The records as field texts (the engine's first call). Raises
        :class:`~gateway.services.channels.ApplyAgain` when this store cannot take the
        file so: the engine rolls back, reads the file again and calls :meth:`apply`."""

    def apply(self, session: Session, file_id: int, day: date, records: Iterable[Record]) -> SwipeSummary:
        """The records as typed values: any file."""
