"""What flows on each partner's file channel: the interfaces the exchange engine drives.

A partner's file exchange is an outbound builder per file type we send and an inbound
handler per file type we receive. The engine (``gateway.services.exchange``) does
everything generic — SEQ, writing, sealing, archiving, upload, listing, duplicates,
opening, the one transaction per file, record errors, ACKs both ways — and calls these
for the partner's business meaning. Builders and handlers are registered per partner in
the partner's package (``gateway.partners.<name>.channels``, ``CHANNEL``), so adding a file
type or a partner never touches the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models.exchange import ExchangeFile, OutboundItem
from gateway.partners import registry
from schemas.errors import RecordError
from schemas.reader import Header, Record


@dataclass
class Batch:
    """The records of one outbound file, with the reference of each (same order) so that
    a partner's ``line:<n>`` error finds its order or request again."""

    records: list[dict[str, Any]] = field(default_factory=list)
    refs: list[tuple[str, str]] = field(default_factory=list)  # (kind, ref)
    photos: dict[str, bytes] = field(default_factory=dict)  # CARDORDER: order_id -> JPEG bytes


@dataclass
class AckOutcome:
    """What the partner's ACK said about one of our files."""

    status: str  # ACCEPTED | PARTIAL | REJECTED
    code: str | None
    text: str | None
    ack_date: date
    # PARTIAL: the bad records, by their reference, with their rendered errors
    errors_by_ref: dict[tuple[str, str], list[str]] = field(default_factory=dict)


@dataclass
class Refusal:
    """A record our writer refused (it breaks a field rule or cannot be written): it stays
    pending for an operator and the file goes out with the others (partners/README.md)."""

    kind: str
    ref: str
    field: str
    reason: str


class OutboundBuilder(Protocol):
    file_type: str
    ext: str  # "txt" or "zip"

    def due_on(self, session: Session, business_date: date) -> bool:
        """Is this scheduled file due on ``business_date`` (sent even when empty)?"""

    def collect(self, session: Session, business_date: date) -> Batch:
        """The records pending for the partner now."""

    def mark_in_file(
        self, session: Session, file: ExchangeFile, written: list[tuple[str, str]], refused: list[Refusal]
    ) -> None:
        """In the transaction that creates ``file``: these records are now in it."""

    def on_ack(self, session: Session, file: ExchangeFile, outcome: AckOutcome) -> None:
        """The partner's ACK for ``file`` arrived (in the transaction that applies it)."""


class InboundHandler(Protocol):
    file_type: str

    def apply(
        self, session: Session, file: ExchangeFile, header: Header, records: Iterator[Record]
    ) -> Iterable[RecordError] | None:
        """Apply every record, in the caller's transaction. ``records`` yields only the
        records that passed their field rules; the engine keeps the record errors. A
        ``FileError`` raised while iterating rolls the whole file back. The handler may
        return more record errors, for rules that need our state (a record it did not
        apply): the engine records them and ACKs the file PARTIAL like any other.

        A handler may also define ``apply_texts`` (same arguments, but each record as
        ``(line, field texts)``, ``schemas.reader.Reader.texts``: the same checks, no
        Python value per field). The engine then calls it instead, and it may raise
        :class:`ApplyAgain` when its way does not hold for this file."""


class TextsHandler(InboundHandler, Protocol):
    """An inbound handler with a way for most files on the records' field texts."""

    def apply_texts(
        self,
        session: Session,
        file: ExchangeFile,
        header: Header,
        records: Iterator[tuple[int, tuple[str, ...]]],
    ) -> None:
        """As ``apply``, each record as ``(line, field texts)``; may raise :class:`ApplyAgain`."""


class ApplyAgain(Exception):  # noqa: N818 - an instruction to the engine, not an error
    """A handler's ``apply_texts`` cannot apply this file as it stands (SWIPE: a txn_id
    there already, or a database without the direct way). The engine rolls the whole
    file back, reads it again and calls the handler's ``apply`` on a fresh transaction."""


# ------------------------------------------------------------------ builders' helpers

Row = TypeVar("Row")


def first_file_of_day(session: Session, partner: str, file_type: str, business_date: date) -> bool:
    """No file of this type sent to the partner yet for the date: records our writer
    refused earlier are tried again once a day (a same-day rerun must not send the same
    refusal in an empty SEQ)."""
    return (
        session.scalar(
            select(ExchangeFile.id)
            .where(
                ExchangeFile.partner == partner,
                ExchangeFile.direction == "out",
                ExchangeFile.file_type == file_type,
                ExchangeFile.business_date == business_date,
            )
            .limit(1)
        )
        is None
    )


def refs_in_file(session: Session, file: ExchangeFile, kind: str) -> list[str]:
    """The references of ``kind`` that our ``file`` carries, in line order."""
    return list(
        session.scalars(
            select(OutboundItem.ref)
            .where(OutboundItem.file_id == file.id, OutboundItem.kind == kind)
            .order_by(OutboundItem.line)
        )
    )


def rows_in_file(
    session: Session,
    load: Callable[[Session, list[str]], dict[str, Row]],
    written: list[tuple[str, str]],
    refused: list[Refusal],
) -> tuple[list[Row], list[tuple[Row, Refusal]]]:
    """For a builder's ``mark_in_file``: the rows written into the file, and each refused
    row with its refusal, loaded in one query by ``load`` (references -> rows by reference)."""
    rows = load(session, [ref for _, ref in written] + [r.ref for r in refused])
    return [rows[ref] for _, ref in written], [(rows[r.ref], r) for r in refused]


@dataclass
class Channel:
    partner: str
    outbound: dict[str, OutboundBuilder] = field(default_factory=dict)
    inbound: dict[str, InboundHandler] = field(default_factory=dict)
    # Apply order of inbound types within one fetch (bank.md "Order across files").
    inbound_order: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        partner: str,
        *,
        outbound: Iterable[OutboundBuilder] = (),
        inbound: Iterable[InboundHandler] = (),
        inbound_order: tuple[str, ...] = (),
    ) -> Channel:
        return cls(
            partner,
            outbound={b.file_type: b for b in outbound},
            inbound={h.file_type: h for h in inbound},
            inbound_order=inbound_order,
        )


# Each file partner's channel, loaded from the partner registry on first use.
CHANNELS: dict[str, Channel] = {}


def channel(partner: str) -> Channel:
    """The partner's file channel (its partner package's ``CHANNEL``)."""
    if partner not in CHANNELS:
        declared = registry.get(partner)
        if not declared.file_partner:
            raise KeyError(
                f"{partner}: no file channel (file partners are {', '.join(registry.file_partner_ids())})"
            )
        CHANNELS[partner] = registry.load_channel(declared)
    return CHANNELS[partner]


def load_all() -> None:
    """Load every file partner's channel (a worker does it once, before it forks)."""
    for partner in registry.file_partner_ids():
        channel(partner)
