"""ACKs both ways: the partner's ACKs for our files, applied in the ACK file's own
transaction (the file's builder hears of each, ``on_ack``), and the ACKs we owe, one ACK
file for every data file still waiting for ours (partners/README.md: an ACK is never
acknowledged)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db import transaction
from gateway.models.exchange import ExchangeFile, OutboundItem, RecordErrorRow
from gateway.services.alerts import raise_alert
from gateway.services.channels import AckOutcome, channel
from gateway.services.exchange import outbound
from gateway.services.exchange.outbound import Draft, SendReport
from gateway.services.ports import Ports
from gateway.settings import OUR_ID
from gateway.timeutil import beijing_today, utcnow
from schemas import writer
from schemas.ack import parse_error_text
from schemas.reader import Record


def owe_ack(row: ExchangeFile, status: str, code: str | None, text: str | None) -> None:
    """Record on an inbound file the ACK we owe for it (``send_acks`` sends it)."""
    # An ACK is never acknowledged (partners/README.md).
    if row.file_type != "ACK":
        row.ack_status, row.ack_code, row.ack_text = status, code, text


def apply_partner_acks(
    session: Session, partner: str, ack_row: ExchangeFile, records: Iterator[Record]
) -> None:
    """Apply the partner's ACK file ``ack_row``: each line closes one of our files."""
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


class _AnsweredMeanwhile(Exception):  # noqa: N818 - a signal inside send_acks, never raised out
    """Another worker acknowledged some of the files while this one claimed its SEQ."""


def send_acks(ports: Ports, partner: str) -> SendReport | None:
    """Send one ACK file for every data file of the partner still waiting for ours. Its
    business date is the day it is written (partners/README.md), never the day of the
    files it answers or of the cycle that runs it."""
    bdate = beijing_today()
    with transaction(ports.sessions) as session:
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
    names: list[str] = []

    def plan(session: Session, files: list[ExchangeFile], seq: int) -> Draft:
        plain, result = writer.write_bytes(
            "ACK", records, sender=OUR_ID, receiver=partner, business_date=bdate, seq=seq,
            created_time=utcnow(),
        )  # fmt: skip
        if result.refused:
            raise RuntimeError(f"ACK for {partner} refused by the writer: {result.refused[0]}")
        return Draft(plain, result.count, claimed=answering)

    def answering(session: Session, ack: ExchangeFile) -> None:
        claimed = 0
        for f in session.scalars(select(ExchangeFile).where(ExchangeFile.id.in_(ids))):
            if f.ack_file_id is None:
                f.ack_file_id = ack.id
                claimed += 1
        if claimed != len(ids):
            raise _AnsweredMeanwhile
        names.append(ack.name)

    try:
        ack_id = outbound.claim(ports, partner, "ACK", bdate, plan)
    except _AnsweredMeanwhile:
        return send_acks(ports, partner)  # the claim rolled back: start again
    outbound.upload(ports, ack_id)
    return SendReport(ack_id, names[-1], len(records), uploaded=True)
