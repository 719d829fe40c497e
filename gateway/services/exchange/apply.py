"""Applying a received file: open the envelope (E01/E02), read the file (E03/E05/E04,
record errors), detect a duplicate header (E06), and apply the records in **one**
transaction that also inserts the file's ``file_applications`` row: a crash leaves
nothing, a second worker fails on the primary key. The ACK we owe is recorded on the file
(``acks.send_acks`` sends it); an ACK file from the partner is applied by
``acks.apply_partner_acks``; every other type by the partner's channel handler."""

from __future__ import annotations

import io
import logging
import os
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.db import transaction
from gateway.logs import bind
from gateway.models.exchange import Alert, ExchangeFile, FileApplication, RecordErrorRow
from gateway.services import archive
from gateway.services.alerts import raise_alert
from gateway.services.channels import ApplyAgain, channel
from gateway.services.exchange.acks import apply_partner_acks, owe_ack
from gateway.services.ports import Ports
from gateway.settings import OUR_ID
from gateway.timeutil import beijing_today, utcnow
from keys.envelope import EnvelopeError
from schemas.ack import error_text
from schemas.errors import FILE_CODES, FileError, RecordError
from schemas.reader import Record
from schemas.reader import read as read_file

log = logging.getLogger("svcard.exchange")
NOT_APPLIED_ALERT = "file_not_applied"


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


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


def process(ports: Ports, file_id: int) -> str:
    """Open, check and apply one received file; returns its final status. Every log
    record of it carries the file's id (``gateway.logs``)."""
    with bind(file_id=file_id):
        return _process(ports, file_id)


def _process(ports: Ports, file_id: int) -> str:
    with transaction(ports.sessions) as session:
        row = session.get(ExchangeFile, file_id)
        if row is None or row.direction != "in" or row.status != "received":
            return row.status if row else "missing"
        partner, name, raw_rel = row.partner, row.name, row.raw_path
    sealed = archive.raw_path(ports.settings, raw_rel).read_bytes()
    try:
        plain = ports.keystore().open(sealed, from_=partner)
    except EnvelopeError as exc:
        # The detailed reason stays with our operators; the ACK carries only the code's
        # meaning, so a partner cannot use our answers as a decryption oracle.
        return _reject(ports, file_id, exc.code, exc.reason, ack_text=FILE_CODES[exc.code])
    plain_name = name[:-4] if name.endswith(".p7m") else name
    # The plain copy is archived (encrypted, written, synced) while the file is read and
    # applied; the file's transaction takes its path, so waits for it, before committing.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive") as pool:
        archiving = pool.submit(
            archive.store_plain, ports.settings, partner, beijing_today(), plain_name, plain
        )
        archiving.add_done_callback(_log_archive_failure)  # seen even when nothing asks for it
        try:
            status = _apply(ports, file_id, partner, name, plain, lambda: archiving.result().path)
        except FileError as exc:
            return _reject(ports, file_id, exc.code, exc.reason, archiving.result().path)
        except Exception as exc:
            # Not the partner's fault (a defect, the database gone): nothing was applied and
            # the file stays ``received``, unacknowledged, and the files after it wait. An
            # operator must see it, not only the failed job. The exception's text may quote
            # record values, so the alert names only its type; the log has the rest.
            with transaction(ports.sessions) as session:
                raise_alert(
                    session, NOT_APPLIED_ALERT, partner,
                    f"{name}: could not be applied ({type(exc).__name__}; see the worker log); "
                    "it stays unacknowledged and is tried again at the next run",
                    subject=name,
                )  # fmt: skip
            raise
    if status == "received":  # not applied after every attempt: the alert, if any, stays
        return status
    with transaction(ports.sessions) as session:
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
    ports: Ports,
    file_id: int,
    code: str,
    reason: str,
    plain_path: str | None = None,
    ack_text: str | None = None,
) -> str:
    with transaction(ports.sessions) as session:
        row = session.get(ExchangeFile, file_id)
        if row.status != "received":
            return row.status
        row.status, row.detail, row.plain_path = "rejected", f"{code} {reason}", plain_path or row.plain_path
        owe_ack(row, "REJECTED", code, ack_text or reason)
        log.warning("%s: %s rejected %s %s", row.partner, row.name, code, reason)
        return row.status


def _apply(
    ports: Ports, file_id: int, partner: str, name: str, plain: bytes, plain_path: Callable[[], str]
) -> str:
    reader = read_file(io.BytesIO(plain), file_name=name, sender=partner, receiver=OUR_ID)
    errors: list[RecordError] = []

    def records() -> Iterator[Record]:
        return reader.records(errors)

    again = False  # the handler's apply_texts asked for its apply (ApplyAgain)
    for _attempt in range(3):
        session = ports.sessions()
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
                owe_ack(row, "REJECTED", "E06", "duplicate of a file already received")
                session.commit()
                return row.status
            session.add(FileApplication(file_id=file_id, worker=_worker_name()))
            row.identity = identity
            session.flush()  # the exactly-once gate: a concurrent application fails here
            if header.file_type == "ACK":
                stream = records()
                apply_partner_acks(session, partner, row, stream)
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
                owe_ack(row, "PARTIAL", "E07", error_text(errors))
            else:
                row.status = "processed"
                owe_ack(row, "ACCEPTED", None, None)
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
    with transaction(ports.sessions) as session:
        return session.get(ExchangeFile, file_id).status
