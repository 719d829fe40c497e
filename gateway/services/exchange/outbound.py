"""The outbound half of the exchange engine, for any channel and any way of upload.

``claim`` is what every outbound file has in common: in one transaction it lists the
files of (partner, type, business date), asks the caller's plan for what is due, writes
nothing itself but seals the plan's plain file for the partner, spools it, archives both
copies and adds the file row (``prepared``) whose unique ``identity`` claims the SEQ — of
two workers, one collides and looks again. ``upload`` hands a prepared file to the
partner with its row locked, through a ``Deliver``: the partner's file transport by
default, or another (the insurer's roster goes in a SOAP call, and its answer is the ACK).

``prepare``/``send`` drive the file channels' builders (``gateway.services.channels``);
``upload_stranded`` sends what an earlier run prepared but never got across.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.db import transaction
from gateway.models.exchange import ExchangeFile, OutboundItem
from gateway.services import archive
from gateway.services.channels import Batch, Refusal, channel
from gateway.services.exchange.spool import spool
from gateway.services.ports import Ports
from gateway.settings import OUR_ID
from gateway.timeutil import BEIJING, utcnow
from schemas import writer

log = logging.getLogger("svcard.exchange")


@dataclass
class SendReport:
    file_id: int
    name: str
    records: int
    refused: list[Refusal] = field(default_factory=list)
    uploaded: bool = False


# --------------------------------------------------------------------- the SEQ claim


@dataclass
class Draft:
    """A plain file written for the SEQ being claimed; ``claim`` seals and records it."""

    plain: bytes
    count: int
    ext: str = "txt"
    detail: str | None = None
    #: Called in the claiming transaction once the row has its id (the records marked as
    #: in the file). It may raise to give the claim up: the transaction rolls back.
    claimed: Callable[[Session, ExchangeFile], None] | None = None


#: ``plan(session, files, seq)``: given the files of (partner, type, date) this transaction
#: sees, by SEQ, and the SEQ after them, the id of a file to resume, None when nothing is
#: due, or the ``Draft`` that claims ``seq``.
Plan = Callable[[Session, list[ExchangeFile], int], int | Draft | None]


def claim(ports: Ports, partner: str, file_type: str, business_date: date, plan: Plan) -> int | None:
    """The file id the plan chose: an existing file, or a new one ``prepared`` in the
    next SEQ, sealed for the partner with both archive copies. None when nothing is due."""
    for _attempt in range(3):
        with transaction(ports.sessions) as session:
            files = list(
                session.scalars(
                    select(ExchangeFile)
                    .where(
                        ExchangeFile.partner == partner,
                        ExchangeFile.direction == "out",
                        ExchangeFile.file_type == file_type,
                        ExchangeFile.business_date == business_date,
                    )
                    .order_by(ExchangeFile.seq)
                )
            )
            # The SEQ follows from the files this transaction saw above, never from a fresh
            # look: under READ COMMITTED a fresh MAX(seq) would see a file another worker
            # committed meanwhile and claim the SEQ after it, sending a second file with
            # the same pending records. Claiming the next SEQ after what we saw makes that
            # worker's file collide on ``identity`` and this one look again.
            seq = max((f.seq or 0 for f in files), default=0) + 1
            planned = plan(session, files, seq)
            if not isinstance(planned, Draft):
                return planned  # a file to resume, or nothing due
            draft = planned
            name = f"{writer.file_name(file_type, OUR_ID, business_date, seq, draft.ext)}.p7m"
            row = _sealed_row(ports, partner, file_type, business_date, seq, name, draft)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                # Another worker claimed this SEQ first: look again (it may have sent it all).
                session.rollback()
                continue
            if draft.claimed is not None:
                draft.claimed(session, row)
            return row.id
    raise RuntimeError(f"{partner} {file_type} {business_date}: could not claim a SEQ")


def _sealed_row(
    ports: Ports, partner: str, file_type: str, business_date: date, seq: int, name: str, draft: Draft
) -> ExchangeFile:
    """Seal a written file for the partner, archive both copies, and return its row
    (``prepared``). Its ``identity`` is unique: adding it claims the SEQ."""
    sealed_path = spool(ports, "out", partner) / name
    sealed_path.write_bytes(ports.keystore().seal(draft.plain, to=partner))
    raw = archive.store_raw(ports.settings, partner, business_date, name, sealed_path)
    plain_copy = archive.store_plain(ports.settings, partner, business_date, name[:-4], draft.plain)
    return ExchangeFile(
        partner=partner,
        direction="out",
        file_type=file_type,
        name=name,
        sender=OUR_ID,
        receiver=partner,
        business_date=business_date,
        seq=seq,
        size=raw.size,
        sha256=raw.sha256,
        status="prepared",
        identity=f"out|{partner}|{file_type}|{business_date:%Y%m%d}|{seq:03d}",
        record_count=draft.count,
        raw_path=raw.path,
        plain_path=plain_copy.path,
        detail=draft.detail,
    )


# --------------------------------------------------------------------- file channels


def _write_plain(file_type: str, ext: str, partner: str, business_date: date, seq: int, batch: Batch):
    """(plain bytes, WriteResult) — a ZIP package for CARDORDER, a text file otherwise."""
    created = utcnow().astimezone(BEIJING)
    if ext == "zip":
        # Pillow loads with the package writer, when a CARDORDER is written, not at start-up.
        from schemas.package import write_package

        out = io.BytesIO()
        result = write_package(
            out, batch.records, batch.photos, sender=OUR_ID, receiver=partner,
            business_date=business_date, seq=seq, created_time=created,
        )  # fmt: skip
        return out.getvalue(), result
    return writer.write_bytes(
        file_type, batch.records, sender=OUR_ID, receiver=partner,
        business_date=business_date, seq=seq, created_time=created,
    )  # fmt: skip


def prepare(
    ports: Ports, partner: str, file_type: str, business_date: date, *, force: bool = False
) -> int | None:
    """Create the outbound file row (status ``prepared``) with its sealed bytes archived.

    Returns the file id, or None when nothing is due: the scheduled file for that date
    exists already and nothing new is pending (``force`` sends pending records in the
    next SEQ anyway, e.g. after an operator fixed refused records)."""
    builder = channel(partner).outbound[file_type]

    def plan(session: Session, files: list[ExchangeFile], seq: int) -> int | Draft | None:
        unsent = [f for f in files if f.status == "prepared"]
        if unsent:
            return unsent[0].id  # a crash between prepare and upload: resume it
        batch = builder.collect(session, business_date)
        if files and not batch.records and not force:
            return None
        if not files and not batch.records and not builder.due_on(session, business_date):
            return None
        plain, result = _write_plain(file_type, builder.ext, partner, business_date, seq, batch)
        refused_idx = {r.index for r in result.refused}
        written = [ref for i, ref in enumerate(batch.refs) if i not in refused_idx]
        refusals = [
            Refusal(batch.refs[r.index][0], batch.refs[r.index][1], r.field, r.reason) for r in result.refused
        ]

        def claimed(session: Session, row: ExchangeFile) -> None:
            for line, (kind, ref) in enumerate(written, start=2):
                session.add(OutboundItem(file_id=row.id, line=line, kind=kind, ref=ref))
            builder.mark_in_file(session, row, written, refusals)
            for r in refusals:
                log.warning(
                    "%s %s: %s %s refused: %s: %s", partner, row.name, r.kind, r.ref, r.field, r.reason
                )

        return Draft(plain, result.count, builder.ext, claimed=claimed)

    return claim(ports, partner, file_type, business_date, plan)


# --------------------------------------------------------------------- upload


#: ``deliver(session, row, sealed)``: hand the sealed file to the partner and record on
#: the (locked) row what came of it: ``sent`` for a file transport, the answer for a SOAP
#: upload. A row left ``prepared`` goes again, under the same name, at the next attempt.
Deliver = Callable[[Session, ExchangeFile, Path], None]


def over_file_transport(ports: Ports) -> Deliver:
    """Upload through the partner's file transport (``.part``, rename, confirm)."""

    def deliver(session: Session, row: ExchangeFile, sealed: Path) -> None:
        with ports.file_transport(row.partner) as transport:
            transport.upload(sealed, row.name)
        row.status, row.sent_at = "sent", utcnow()

    return deliver


def upload(ports: Ports, file_id: int, deliver: Deliver | None = None) -> bool:
    """Upload a prepared file (by the partner's file transport unless ``deliver`` says
    otherwise); True when it left ``prepared``. Safe to repeat (same name, same bytes).

    The file's row stays locked (``FOR UPDATE``) while its bytes cross: a second worker
    uploading the same file (two runs of a schedule; ``upload_stranded``) waits, then finds
    it sent, instead of writing the same ``.part`` at the same time and renaming it from
    under the first. A worker that dies mid-upload releases the lock with its connection
    and leaves the file ``prepared`` for the next run. (SQLite has no row locks: the
    embedded default runs jobs inline, in one process.)"""
    with transaction(ports.sessions) as session:
        row = session.scalar(select(ExchangeFile).where(ExchangeFile.id == file_id).with_for_update())
        if row is None or row.direction != "out" or row.status != "prepared":
            return False
        (deliver or over_file_transport(ports))(session, row, archive.raw_path(ports.settings, row.raw_path))
        partner, name, status = row.partner, row.name, row.status
    if status == "prepared":
        return False
    log.info("%s: sent %s", partner, name)
    return True


def upload_stranded(ports: Ports, partner: str, file_type: str | None = None) -> list[SendReport]:
    """Upload every outbound file of the partner still ``prepared``, oldest first, whatever
    its business date (or only those of ``file_type``).

    Such a file claimed its SEQ and its records were marked as in it, but the worker died
    or the upload failed before the upload was confirmed. ``prepare`` resumes one only for
    its own date, and an ACK file is never prepared again, so without this a failed 01:00
    upload (or a failed ACK upload) would leave its records at SVA for ever. The archived
    bytes go, under the same name: never a second file."""
    with transaction(ports.sessions) as session:
        query = select(ExchangeFile.id).where(
            ExchangeFile.partner == partner,
            ExchangeFile.direction == "out",
            ExchangeFile.status == "prepared",
        )
        if file_type is not None:
            query = query.where(ExchangeFile.file_type == file_type)
        ids = list(session.scalars(query.order_by(ExchangeFile.id)))
    reports, failed = [], []
    for file_id in ids:
        # Each on its own: one file that cannot go must not keep the others back.
        try:
            uploaded = upload(ports, file_id)
        except Exception as exc:
            log.exception("%s: stranded file %d still not uploaded", partner, file_id)
            failed.append((file_id, exc))
            continue
        if uploaded:
            with transaction(ports.sessions) as session:
                row = session.get(ExchangeFile, file_id)
                log.warning("%s: %s was prepared but not sent; uploaded now", partner, row.name)
                reports.append(SendReport(row.id, row.name, row.record_count or 0, uploaded=True))
    if failed:
        raise UploadsFailed(partner, reports, failed)
    return reports


class UploadsFailed(RuntimeError):
    """Some stranded files could not be uploaded; ``sent`` holds those that were."""

    def __init__(self, partner: str, sent: list[SendReport], failed: list[tuple[int, Exception]]) -> None:
        self.sent, self.failed = sent, failed
        what = ", ".join(f"file {i} ({type(e).__name__})" for i, e in failed)
        super().__init__(f"{partner}: not uploaded: {what}")


def send(
    ports: Ports, partner: str, file_type: str, business_date: date, *, force: bool = False
) -> SendReport | None:
    """Prepare (if due) and upload one outbound file."""
    file_id = prepare(ports, partner, file_type, business_date, force=force)
    if file_id is None:
        return None
    upload(ports, file_id)
    with transaction(ports.sessions) as session:
        row = session.get(ExchangeFile, file_id)
        return SendReport(row.id, row.name, row.record_count or 0, uploaded=row.status != "prepared")
