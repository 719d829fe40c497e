"""The file exchange engine: everything the SFTP partners have in common.

Outbound (``send``): collect what is pending, write the plain file (refused records stay
pending), claim the next SEQ — the unique ``identity`` of the file row decides between two
workers — seal for the partner, archive both copies, upload as ``.part``, rename, confirm.
A file row that is ``prepared`` but not ``sent`` (a crash between the two) is uploaded
again, with the same bytes, on the next run.

Inbound (``fetch`` then ``process``): list the partner's outbox; a name already stored is
skipped; a stored name whose size changed is held for an operator; a new name is
downloaded and archived, and if its bytes match a stored file it is a duplicate (E06).
Processing opens the envelope (E01/E02), reads the file (E03/E05/E04, record errors),
detects a duplicate header (E06), and applies the records in **one** transaction that
also inserts the file's ``file_applications`` row: a crash leaves nothing, a second
worker fails on the primary key. The ACK we owe is recorded on the file and sent by
``send_acks``; the partner's ACKs for our files are applied by the built-in ACK handler.
"""

from __future__ import annotations

import io
import logging
import os
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway import context
from gateway.db import transaction
from gateway.domain.errors import CodedError, Conflict
from gateway.keystore import keystore
from gateway.models.exchange import Alert, ExchangeFile, FileApplication, OutboundItem, RecordErrorRow
from gateway.services import archive
from gateway.services.alerts import raise_alert
from gateway.services.channels import AckOutcome, ApplyAgain, Batch, Refusal, channel
from gateway.services.transports import open_transport
from gateway.settings import OUR_ID
from gateway.timeutil import BEIJING, beijing_today, utcnow
from keys.envelope import EnvelopeError
from schemas import writer
from schemas.ack import error_text, parse_error_text
from schemas.errors import FILE_CODES, FileError, RecordError
from schemas.reader import NAME_RE, Record
from schemas.reader import read as read_file

log = logging.getLogger("svcard.exchange")
ACK_TEXT_LIMIT = 1000
NOT_APPLIED_ALERT = "file_not_applied"


# --------------------------------------------------------------------- plumbing


def _spool(kind: str, partner: str) -> Path:
    path = context.current().settings.spool_dir / kind / partner
    path.mkdir(parents=True, exist_ok=True)
    return path


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --------------------------------------------------------------------- outbound


@dataclass
class SendReport:
    file_id: int
    name: str
    records: int
    refused: list[Refusal] = field(default_factory=list)
    uploaded: bool = False


def _next_seq(session: Session, partner: str, file_type: str, business_date: date) -> int:
    current = session.scalar(
        select(func.max(ExchangeFile.seq)).where(
            ExchangeFile.partner == partner,
            ExchangeFile.direction == "out",
            ExchangeFile.file_type == file_type,
            ExchangeFile.business_date == business_date,
        )
    )
    return (current or 0) + 1


def _write_plain(file_type: str, ext: str, partner: str, business_date: date, seq: int, batch: Batch):
    """(plain bytes, WriteResult) — a ZIP package for CARDORDER, a text file otherwise."""
    created = utcnow().astimezone(BEIJING)
    if ext == "zip":
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


def _outbound_row(
    partner: str, file_type: str, business_date: date, seq: int, name: str, plain: bytes, count: int
) -> ExchangeFile:
    """Seal a written file for the partner, archive both copies, and return its row
    (``prepared``). Its ``identity`` is unique: adding it claims the SEQ."""
    settings = context.current().settings
    sealed_path = _spool("out", partner) / name
    sealed_path.write_bytes(keystore().seal(plain, to=partner))
    raw = archive.store_raw(settings, partner, business_date, name, sealed_path)
    plain_copy = archive.store_plain(settings, partner, business_date, name[:-4], plain)
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
        record_count=count,
        raw_path=raw.path,
        plain_path=plain_copy.path,
    )


def prepare(partner: str, file_type: str, business_date: date, *, force: bool = False) -> int | None:
    """Create the outbound file row (status ``prepared``) with its sealed bytes archived.

    Returns the file id, or None when nothing is due: the scheduled file for that date
    exists already and nothing new is pending (``force`` sends pending records in the
    next SEQ anyway, e.g. after an operator fixed refused records)."""
    rt = context.current()
    builder = channel(partner).outbound[file_type]
    for _attempt in range(3):
        with transaction(rt.sessions) as session:
            existing = session.scalars(
                select(ExchangeFile)
                .where(
                    ExchangeFile.partner == partner,
                    ExchangeFile.direction == "out",
                    ExchangeFile.file_type == file_type,
                    ExchangeFile.business_date == business_date,
                )
                .order_by(ExchangeFile.seq)
            ).all()
            unsent = [f for f in existing if f.status == "prepared"]
            if unsent:
                return unsent[0].id  # a crash between prepare and upload: resume it
            batch = builder.collect(session, business_date)
            if existing and not batch.records and not force:
                return None
            if not existing and not batch.records and not builder.due_on(session, business_date):
                return None
            # The SEQ follows from the files this transaction saw above, never from a fresh
            # look: under READ COMMITTED a fresh MAX(seq) would see a file another worker
            # committed meanwhile and claim the SEQ after it, sending a second file with
            # the same pending records. Claiming the next SEQ after what we saw makes that
            # worker's file collide on ``identity`` and this one look again.
            seq = max((f.seq or 0 for f in existing), default=0) + 1
            plain, result = _write_plain(file_type, builder.ext, partner, business_date, seq, batch)
            name = f"{writer.file_name(file_type, OUR_ID, business_date, seq, builder.ext)}.p7m"
            refused_idx = {r.index for r in result.refused}
            written = [ref for i, ref in enumerate(batch.refs) if i not in refused_idx]
            refusals = [
                Refusal(batch.refs[r.index][0], batch.refs[r.index][1], r.field, r.reason)
                for r in result.refused
            ]
            row = _outbound_row(partner, file_type, business_date, seq, name, plain, result.count)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                # Another worker claimed this SEQ first: look again (it may have sent it all).
                session.rollback()
                continue
            for line, (kind, ref) in enumerate(written, start=2):
                session.add(OutboundItem(file_id=row.id, line=line, kind=kind, ref=ref))
            builder.mark_in_file(session, row, written, refusals)
            for r in refusals:
                log.warning("%s %s: %s %s refused: %s: %s", partner, name, r.kind, r.ref, r.field, r.reason)
            return row.id
    raise RuntimeError(f"{partner} {file_type} {business_date}: could not claim a SEQ")


def upload(file_id: int) -> bool:
    """Upload a prepared file; marks it ``sent``. Safe to repeat (same name, same bytes).

    The file's row stays locked (``FOR UPDATE``) while its bytes cross: a second worker
    uploading the same file (two runs of a schedule; ``upload_stranded``) waits, then finds
    it sent, instead of writing the same ``.part`` at the same time and renaming it from
    under the first. A worker that dies mid-upload releases the lock with its connection
    and leaves the file ``prepared`` for the next run. (SQLite has no row locks: the
    embedded default runs jobs inline, in one process.)"""
    rt = context.current()
    with transaction(rt.sessions) as session:
        row = session.scalar(select(ExchangeFile).where(ExchangeFile.id == file_id).with_for_update())
        if row is None or row.direction != "out" or row.status != "prepared":
            return False
        partner, name, rel = row.partner, row.name, row.raw_path
        with open_transport(partner) as transport:
            transport.upload(archive.raw_path(rt.settings, rel), name)
        row.status, row.sent_at = "sent", utcnow()
    log.info("%s: sent %s", partner, name)
    return True


def upload_stranded(partner: str, file_type: str | None = None) -> list[SendReport]:
    """Upload every outbound file of the partner still ``prepared``, oldest first, whatever
    its business date (or only those of ``file_type``).

    Such a file claimed its SEQ and its records were marked as in it, but the worker died
    or the upload failed before the upload was confirmed. ``prepare`` resumes one only for
    its own date, and an ACK file is never prepared again, so without this a failed 01:00
    upload (or a failed ACK upload) would leave its records at SVA for ever. The archived
    bytes go, under the same name: never a second file."""
    rt = context.current()
    with transaction(rt.sessions) as session:
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
            uploaded = upload(file_id)
        except Exception as exc:
            log.exception("%s: stranded file %d still not uploaded", partner, file_id)
            failed.append((file_id, exc))
            continue
        if uploaded:
            with transaction(rt.sessions) as session:
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


def send(partner: str, file_type: str, business_date: date, *, force: bool = False) -> SendReport | None:
    """Prepare (if due) and upload one outbound file."""
    file_id = prepare(partner, file_type, business_date, force=force)
    if file_id is None:
        return None
    upload(file_id)
    with transaction(context.current().sessions) as session:
        row = session.get(ExchangeFile, file_id)
        return SendReport(row.id, row.name, row.record_count or 0, uploaded=row.status != "prepared")


# --------------------------------------------------------------------- inbound: fetch


@dataclass
class FetchReport:
    new: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    skipped: int = 0


def fetch(partner: str) -> FetchReport:
    """Download what is new in the partner's outbox (partners/README.md, "Transport, SFTP")."""
    rt = context.current()
    report = FetchReport()
    with open_transport(partner) as transport:
        listing = transport.list_outbox()
        with transaction(rt.sessions) as session:
            stored = {
                f.name: f
                for f in session.scalars(
                    select(ExchangeFile).where(
                        ExchangeFile.partner == partner, ExchangeFile.direction == "in"
                    )
                )
            }
            known = {n: (f.size, f.detail or "") for n, f in stored.items()}
        for remote in sorted(listing, key=lambda r: r.name):
            if remote.name in known:
                size, detail = known[remote.name]
                # Held once per new size: the partner keeps the file for 30 days, and an
                # operator who dealt with the alert must not get it back at every fetch.
                if size is not None and remote.size != size and _reuse_note(remote.size) not in detail:
                    _hold_changed_name(partner, remote.name, remote.size)
                    report.held.append(remote.name)
                else:
                    report.skipped += 1
                continue
            got = transport.download(remote.name, _spool("in", partner))
            recorded = _record_download(partner, remote.name, got.path, got.sha256, got.size)
            if recorded is None:  # another worker fetching this outbox recorded it first
                report.skipped += 1
                continue
            file_id, duplicate = recorded
            (report.duplicates if duplicate else report.new).append(file_id)
    return report


def _reuse_note(new_size: int) -> str:
    return f"the partner's outbox now holds other bytes under this name ({new_size} bytes)"


def _hold_changed_name(partner: str, name: str, new_size: int) -> None:
    """The stored file keeps its status and what it applied; the note is added to its
    detail (an earlier rejection reason stays) and an operator is alerted."""
    with transaction(context.current().sessions) as session:
        row = session.scalar(
            select(ExchangeFile).where(
                ExchangeFile.partner == partner, ExchangeFile.direction == "in", ExchangeFile.name == name
            )
        )
        row.detail = "; ".join(x for x in (row.detail, _reuse_note(new_size)) if x)
        raise_alert(
            session,
            "file_name_reused",
            partner,
            f"{name}: stored name now has different bytes; held for an operator",
            subject=name,
        )


def _parse_name(name: str) -> tuple[str | None, str | None, date | None, int | None]:
    m = NAME_RE.fullmatch(name)
    if not m:
        return None, None, None, None
    try:
        d = datetime.strptime(m["date"], "%Y%m%d").date()
    except ValueError:
        d = None
    return m["type"], m["sender"], d, int(m["seq"])


def _record_download(partner: str, name: str, path: Path, sha256: str, size: int) -> tuple[int, bool] | None:
    """Store a downloaded file: a new original, or a duplicate of stored bytes (E06).

    None when another worker fetching the same outbox recorded this name meanwhile: the
    unique name (and, for an original, the unique content key) decides which worker owns
    the file, so two fetches at once never record it twice nor call one copy a duplicate
    of the other."""
    rt = context.current()
    ftype, sender, bdate, seq = _parse_name(name)
    raw = archive.store_raw(rt.settings, partner, bdate or beijing_today(), name, path)
    for _attempt in range(3):
        try:
            with transaction(rt.sessions) as session:
                taken = session.scalar(
                    select(ExchangeFile.id).where(
                        ExchangeFile.partner == partner,
                        ExchangeFile.direction == "in",
                        ExchangeFile.name == name,
                    )
                )
                if taken is not None:
                    return None
                same_bytes = session.scalar(
                    select(ExchangeFile).where(ExchangeFile.content_key == f"{partner}|{sha256}")
                )
                row = ExchangeFile(
                    partner=partner,
                    direction="in",
                    file_type=ftype,
                    name=name,
                    sender=sender,
                    receiver=OUR_ID,
                    business_date=bdate,
                    seq=seq,
                    size=size,
                    sha256=sha256,
                    raw_path=raw.path,
                    status="received",
                )
                if same_bytes is not None:
                    row.status, row.duplicate_of_id = "duplicate", same_bytes.id
                    row.detail = f"same bytes as {same_bytes.name}"
                    _owe_ack(row, "REJECTED", "E06", "duplicate of a file already received")
                else:
                    row.content_key = f"{partner}|{sha256}"
                session.add(row)
                session.flush()
                return row.id, same_bytes is not None
        except IntegrityError:
            # A concurrent fetch inserted this name, or these bytes under another name,
            # between our look and our insert: look again, now that its row is committed.
            continue
    raise RuntimeError(f"{partner} {name}: could not record the download")


def _owe_ack(row: ExchangeFile, status: str, code: str | None, text: str | None) -> None:
    # An ACK is never acknowledged (partners/README.md).
    if row.file_type != "ACK":
        row.ack_status, row.ack_code, row.ack_text = status, code, text


# --------------------------------------------------------------------- inbound: process


def pending_inbound(session: Session, partner: str) -> list[ExchangeFile]:
    """Received files in apply order: ACKs first (they close our own files), then by
    business date, then the channel's type order (CARDRESULT before CARDSTATUS before
    SWIPE), then SEQ."""
    order = channel(partner).inbound_order
    rows = session.scalars(
        select(ExchangeFile).where(
            ExchangeFile.partner == partner, ExchangeFile.direction == "in", ExchangeFile.status == "received"
        )
    ).all()

    def key(f: ExchangeFile):
        rank = order.index(f.file_type) if f.file_type in order else len(order)
        return (f.file_type != "ACK", f.business_date or date.min, rank, f.seq or 0, f.id)

    return sorted(rows, key=key)


def process(file_id: int) -> str:
    """Open, check and apply one received file; returns its final status."""
    rt = context.current()
    with transaction(rt.sessions) as session:
        row = session.get(ExchangeFile, file_id)
        if row is None or row.direction != "in" or row.status != "received":
            return row.status if row else "missing"
        partner, name, raw_rel = row.partner, row.name, row.raw_path
    sealed = archive.raw_path(rt.settings, raw_rel).read_bytes()
    try:
        plain = keystore().open(sealed, from_=partner)
    except EnvelopeError as exc:
        # The detailed reason stays with our operators; the ACK carries only the code's
        # meaning, so a partner cannot use our answers as a decryption oracle.
        return _reject(file_id, exc.code, exc.reason, ack_text=FILE_CODES[exc.code])
    plain_name = name[:-4] if name.endswith(".p7m") else name
    # The plain copy is archived (encrypted, written, synced) while the file is read and
    # applied; the file's transaction takes its path, so waits for it, before committing.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive") as pool:
        archiving = pool.submit(archive.store_plain, rt.settings, partner, beijing_today(), plain_name, plain)
        archiving.add_done_callback(_log_archive_failure)  # seen even when nothing asks for it
        try:
            status = _apply(file_id, partner, name, plain, lambda: archiving.result().path)
        except FileError as exc:
            return _reject(file_id, exc.code, exc.reason, archiving.result().path)
        except Exception as exc:
            # Not the partner's fault (a defect, the database gone): nothing was applied and
            # the file stays ``received``, unacknowledged, and the files after it wait. An
            # operator must see it, not only the failed job. The exception's text may quote
            # record values, so the alert names only its type; the log has the rest.
            with transaction(rt.sessions) as session:
                raise_alert(
                    session, NOT_APPLIED_ALERT, partner,
                    f"{name}: could not be applied ({type(exc).__name__}; see the worker log); "
                    "it stays unacknowledged and is tried again at the next run",
                    subject=name,
                )  # fmt: skip
            raise
    if status == "received":  # not applied after every attempt: the alert, if any, stays
        return status
    with transaction(rt.sessions) as session:
        for alert in session.scalars(
            select(Alert).where(
                Alert.kind == NOT_APPLIED_ALERT, Alert.subject == name, Alert.resolved_at.is_(None)
            )
        ):
            alert.resolved_at = utcnow()
            alert.message = f"{alert.message} [applied at a later run: {status}]"
    return status


def _log_archive_failure(archiving: Future) -> None:
    if archiving.exception() is not None:
        log.error("archiving a plain copy failed", exc_info=archiving.exception())


def _reject(
    file_id: int, code: str, reason: str, plain_path: str | None = None, ack_text: str | None = None
) -> str:
    with transaction(context.current().sessions) as session:
        row = session.get(ExchangeFile, file_id)
        if row.status != "received":
            return row.status
        row.status, row.detail, row.plain_path = "rejected", f"{code} {reason}", plain_path or row.plain_path
        _owe_ack(row, "REJECTED", code, ack_text or reason)
        log.warning("%s: %s rejected %s %s", row.partner, row.name, code, reason)
        return row.status


def _apply(file_id: int, partner: str, name: str, plain: bytes, plain_path: Callable[[], str]) -> str:
    rt = context.current()
    reader = read_file(io.BytesIO(plain), file_name=name, sender=partner, receiver=OUR_ID)
    errors: list[RecordError] = []

    def records() -> Iterator[Record]:
        return reader.records(errors)

    again = False  # the handler's apply_texts asked for its apply (ApplyAgain)
    for _attempt in range(3):
        session = rt.sessions()
        try:
            # Locked for the whole application: a second worker on the same file waits here,
            # then finds it applied (PostgreSQL; SQLite runs jobs inline, one at a time).
            row = session.get(ExchangeFile, file_id, with_for_update=True)
            if row.status != "received":
                return row.status
            header = reader.header
            if header is None:  # no usable header: reading on raises the file's error
                for _ in records():
                    pass
                raise FileError("E04", "no header")
            identity = f"in|{partner}|{header.file_type}|{header.sender}|{header.business_date:%Y%m%d}|{header.seq:03d}"
            dup = session.scalar(
                select(ExchangeFile).where(ExchangeFile.identity == identity, ExchangeFile.id != file_id)
            )
            if dup is not None:
                for _ in records():  # still read it whole: E03/E04 win over E06
                    pass
                row.status, row.duplicate_of_id, row.detail = (
                    "duplicate",
                    dup.id,
                    f"same header as {dup.name}",
                )
                row.plain_path = plain_path()
                _owe_ack(row, "REJECTED", "E06", "duplicate of a file already received")
                session.commit()
                return row.status
            session.add(FileApplication(file_id=file_id, worker=_worker_name()))
            row.identity = identity
            session.flush()  # the exactly-once gate: a concurrent application fails here
            if header.file_type == "ACK":
                stream = records()
                _apply_partner_acks(session, partner, row, stream)
            else:
                handler = channel(partner).inbound.get(header.file_type)
                if handler is None:
                    raise FileError("E04", f"{header.file_type} is not a file type {partner} sends to SVA")
                if hasattr(handler, "apply_texts") and not again:  # a channels.TextsHandler
                    stream = reader.texts(errors)
                    found = handler.apply_texts(session, row, header, stream)
                else:
                    stream = records()
                    found = handler.apply(session, row, header, stream)
                # record errors the handler found with our state (a rule the schema cannot
                # check alone), beside the field rules' own
                errors.extend(sorted(found or (), key=lambda e: e.line))
            for _ in stream:  # a handler that stopped early still lets the trailer be checked
                pass
            row.file_type, row.business_date, row.seq = header.file_type, header.business_date, header.seq
            row.record_count = reader.summary.count
            row.plain_path, row.applied_at = plain_path(), utcnow()
            for e in errors:
                row.record_errors.append(RecordErrorRow(line=e.line, field=e.field, reason=e.reason))
            if errors:
                row.status = "partial"
                _owe_ack(row, "PARTIAL", "E07", error_text(errors))
            else:
                row.status = "processed"
                _owe_ack(row, "ACCEPTED", None, None)
            session.commit()
            log.info(
                "%s: applied %s (%s, %d records, %d errors)",
                partner,
                name,
                row.status,
                reader.summary.count,
                len(errors),
            )
            return row.status
        except ApplyAgain:
            session.rollback()
            if again:
                raise RuntimeError(f"{name}: the handler asked twice to apply it again") from None
            again = True
            reader = read_file(io.BytesIO(plain), file_name=name, sender=partner, receiver=OUR_ID)
            errors.clear()
            continue
        except IntegrityError:
            session.rollback()
            # Either another worker applied it (the gate) or claimed the header identity:
            # look again with fresh state.
            reader = read_file(io.BytesIO(plain), file_name=name, sender=partner, receiver=OUR_ID)
            errors.clear()
            continue
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    with transaction(rt.sessions) as session:
        return session.get(ExchangeFile, file_id).status


# --------------------------------------------------------------------- ACKs


def _apply_partner_acks(
    session: Session, partner: str, ack_row: ExchangeFile, records: Iterator[Record]
) -> None:
    for rec in records:
        d = rec.data
        ours = session.scalar(
            select(ExchangeFile).where(
                ExchangeFile.partner == partner,
                ExchangeFile.direction == "out",
                ExchangeFile.name == d["original_file_name"],
            )
        )
        if ours is None or ours.sha256 != d["sha256"]:
            raise_alert(
                session,
                "ack_unknown_file",
                partner,
                f"{ack_row.name} line {rec.line}: ACK for a file we did not send with these bytes",
                subject=f"{ack_row.name}:{rec.line}",
            )
            continue
        if ours.ack_file_id is not None:
            continue  # a resent ACK changes nothing
        ours.status = d["status"].lower()
        ours.ack_status, ours.ack_code, ours.ack_text = d["status"], d["error_code"], d["error_text"]
        ours.ack_file_id = ack_row.id
        outcome = AckOutcome(
            d["status"], d["error_code"], d["error_text"], ack_row.business_date or beijing_today()
        )
        if d["status"] == "PARTIAL" and d["error_text"]:
            items = {
                i.line: (i.kind, i.ref)
                for i in session.scalars(select(OutboundItem).where(OutboundItem.file_id == ours.id))
            }
            for e in parse_error_text(d["error_text"]):
                ours.record_errors.append(RecordErrorRow(line=e.line, field=e.field, reason=e.reason))
                if e.line in items:
                    outcome.errors_by_ref.setdefault(items[e.line], []).append(str(e))
        builder = channel(partner).outbound.get(ours.file_type)
        if builder is not None:
            builder.on_ack(session, ours, outcome)


def send_acks(partner: str) -> SendReport | None:
    """Send one ACK file for every data file of the partner still waiting for ours. Its
    business date is the day it is written (partners/README.md), never the day of the
    files it answers or of the cycle that runs it."""
    rt = context.current()
    bdate = beijing_today()
    with transaction(rt.sessions) as session:
        due = session.scalars(
            select(ExchangeFile)
            .where(
                ExchangeFile.partner == partner,
                ExchangeFile.direction == "in",
                ExchangeFile.ack_status.is_not(None),
                ExchangeFile.ack_file_id.is_(None),
            )
            .order_by(ExchangeFile.id)
        ).all()
        if not due:
            return None
        records = [
            {
                "original_file_name": f.name,
                "sha256": f.sha256,
                "status": f.ack_status,
                "error_code": f.ack_code,
                "error_text": f.ack_text or "",
            }
            for f in due
        ]
        ids = [f.id for f in due]
    for _attempt in range(3):
        with transaction(rt.sessions) as session:
            seq = _next_seq(session, partner, "ACK", bdate)
            plain, result = writer.write_bytes(
                "ACK",
                records,
                sender=OUR_ID,
                receiver=partner,
                business_date=bdate,
                seq=seq,
                created_time=utcnow(),
            )
            if result.refused:
                raise RuntimeError(f"ACK for {partner} refused by the writer: {result.refused[0]}")
            name = f"{writer.file_name('ACK', OUR_ID, bdate, seq)}.p7m"
            ack = _outbound_row(partner, "ACK", bdate, seq, name, plain, result.count)
            session.add(ack)
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                continue
            claimed = 0
            for f in session.scalars(select(ExchangeFile).where(ExchangeFile.id.in_(ids))):
                if f.ack_file_id is None:
                    f.ack_file_id = ack.id
                    claimed += 1
            if claimed != len(ids):
                # Another worker acknowledged some of them meanwhile: start again.
                session.rollback()
                return send_acks(partner)
            ack_id = ack.id
            break
    else:
        raise RuntimeError(f"{partner} ACK {bdate}: could not claim a SEQ")
    upload(ack_id)
    return SendReport(ack_id, name, len(records), uploaded=True)


# --------------------------------------------------------------------- operators


class ReplayRefused(CodedError, Conflict):
    """Only a rejected inbound file can be replayed, and only with a comment."""

    CODE, FIELD = "REPLAY_REFUSED", "file_id"


def replay(file_id: int, comment: str, actor: str) -> str:
    """Reprocess a rejected inbound file after its cause was fixed (e.g. the partner's new
    certificate is now pinned). The comment and the actor are kept on the file; the file
    gets a new ACK for the new outcome."""
    if not comment or not comment.strip():
        raise ReplayRefused("a comment is required to replay a file")
    with transaction(context.current().sessions) as session:
        row = session.get(ExchangeFile, file_id)
        if row is None or row.direction != "in":
            raise ReplayRefused(f"no inbound file {file_id}")
        if row.status != "rejected":
            raise ReplayRefused(f"file {file_id} is {row.status}; only a rejected file can be replayed")
        note = f"{utcnow():%Y-%m-%dT%H:%M:%SZ} {actor}: {comment.strip()}"
        row.comment = f"{row.comment}\n{note}" if row.comment else note
        row.status, row.ack_status, row.ack_code, row.ack_text, row.ack_file_id = (
            "received",
            None,
            None,
            None,
            None,
        )
        row.detail = None
    return process(file_id)
