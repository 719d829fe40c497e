"""The library's file channel: one LIBREQ per official volunteer not yet asked, and the
library's LIBACK answers (a FAILED answer raises an alert for an operator)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import Volunteer
from gateway.models.exchange import ExchangeFile, OutboundItem
from gateway.services.alerts import raise_alert
from gateway.services.channels import AckOutcome, Batch, Channel, Refusal
from schemas.reader import Header, Record
from tests.partners.library import ID

KIND = "library_request"


def request_id(volunteer_no: str) -> str:
    return f"LIB{volunteer_no}"


class LibReqBuilder:
    file_type = "LIBREQ"
    ext = "txt"

    def due_on(self, session: Session, business_date: date) -> bool:
        return True

    def collect(self, session: Session, business_date: date) -> Batch:
        asked = set(session.scalars(select(OutboundItem.ref).where(OutboundItem.kind == KIND)))
        batch = Batch()
        numbers = session.scalars(
            select(Volunteer.volunteer_no)
            .where(Volunteer.volunteer_no.is_not(None))
            .order_by(Volunteer.volunteer_no)
        )
        for number in numbers:
            rid = request_id(number)
            if rid not in asked:
                batch.records.append(
                    {
                        "request_id": rid,
                        "volunteer_no": number,
                        "action": "ENABLE",
                        "effective_date": business_date,
                    }
                )
                batch.refs.append((KIND, rid))
        return batch

    def mark_in_file(
        self, session: Session, file: ExchangeFile, written: list[tuple[str, str]], refused: list[Refusal]
    ) -> None:
        pass  # the engine's outbound items are this partner's whole memory of what it asked

    def on_ack(self, session: Session, file: ExchangeFile, outcome: AckOutcome) -> None:
        pass  # the file's own ACK status is all an operator needs here


class LibAckHandler:
    file_type = "LIBACK"

    def apply(self, session: Session, file: ExchangeFile, header: Header, records: Iterator[Record]) -> None:
        ok = failed = 0
        for rec in records:
            if rec.data["result"] == "OK":
                ok += 1
                continue
            failed += 1
            raise_alert(
                session,
                "library_request_failed",
                ID,
                f"{rec.data['request_id']} FAILED",
                subject=rec.data["request_id"],
            )
        file.detail = f"{ok} OK, {failed} FAILED"


CHANNEL = Channel.of(ID, outbound=[LibReqBuilder()], inbound=[LibAckHandler()], inbound_order=("LIBACK",))
