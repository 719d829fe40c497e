"""SZT file exchange (transit.md): the TRANSITREQ builder and the TRANSITACK handler.

The rules (when to enable, disable, cancel out, what an answer does) are in
``gateway.services.transit``; this module only moves them on and off the wire.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.transit.records import TransitLine, transit_answer, transitreq_record
from gateway.models.exchange import ExchangeFile
from gateway.models.transit import TransitRequest
from gateway.partners.transit import ID
from gateway.services import channels, transit
from gateway.services.alerts import raise_alert
from gateway.services.channels import AckOutcome, Batch, Refusal
from schemas.errors import RecordError
from schemas.reader import Header, Record

PARTNER = ID
KIND = "transit_request"
log = logging.getLogger("svcard.transit")


def _by_ids(session: Session, request_ids: list[str]) -> dict[str, TransitRequest]:
    if not request_ids:
        return {}
    rows = session.scalars(select(TransitRequest).where(TransitRequest.request_id.in_(request_ids)))
    return {r.request_id: r for r in rows}


class TransitReqBuilder:
    file_type = "TRANSITREQ"
    ext = "txt"

    def due_on(self, session: Session, business_date: date) -> bool:
        return True  # each day, empty when nothing is pending

    def collect(self, session: Session, business_date: date) -> Batch:
        batch = Batch()
        retry_refused = channels.first_file_of_day(session, PARTNER, self.file_type, business_date)
        for req in transit.sync_requests(session):
            if req.note and req.note.startswith("refused") and not retry_refused:
                continue
            line = TransitLine(req.request_id, req.action, req.card_id, req.volunteer_no, business_date)
            batch.records.append(transitreq_record(line))
            batch.refs.append((KIND, req.request_id))
        return batch

    def mark_in_file(
        self, session: Session, file: ExchangeFile, written: list[tuple[str, str]], refused: list[Refusal]
    ) -> None:
        sent, refusals = channels.rows_in_file(session, _by_ids, written, refused)
        for req in sent:
            transit.mark_sent(req, file.name, file.business_date)
        for req, r in refusals:
            transit.mark_refused(req, r.field, r.reason)

    def on_ack(self, session: Session, file: ExchangeFile, outcome: AckOutcome) -> None:
        for req in _by_ids(session, channels.refs_in_file(session, file, KIND)).values():
            if outcome.status == "REJECTED":
                if outcome.code != "E06":  # E06: SZT has the file already
                    transit.resend_after_rejected_file(req, file.name)
                continue
            errors = outcome.errors_by_ref.get((KIND, req.request_id))
            if errors and req.sent_file == file.name:
                transit.close_record_error(session, req, errors)


# What an operator must hear of an answer: (alert kind, message), by outcome.
_ANSWER_ALERTS = {
    "unknown": ("transit_answer_unknown", "{where}: answer for request {rid}, which SVA never sent"),
    "unexpected": (
        "transit_answer_unexpected",
        "{where}: answer for request {rid}, which is {status}; ignored",
    ),
    "differs": (
        "transit_answer_differs",
        "{where}: request {rid} answered again differently; first answer kept",
    ),
    "failed": ("transit_request_failed", "{action} {rid} FAILED {reason}: an operator decides"),
}


class TransitAckHandler:
    file_type = "TRANSITACK"

    def apply(
        self, session: Session, file: ExchangeFile, header: Header, records: Iterator[Record]
    ) -> list[RecordError]:
        errors: list[RecordError] = []
        for rec in records:
            ans = transit_answer(rec.data, rec.line)
            out = transit.apply_answer(
                session,
                request_id=ans.request_id,
                result=ans.result,
                reason_code=ans.reason_code,
                account_no=ans.transit_account_no,
                processed_date=ans.processed_date,
                success=ans.success,
                file_name=file.name,
            )
            if out.status == "record_error":
                errors.append(RecordError(rec.line, *out.problem))
                continue
            failed = out.status == "applied" and out.request is not None and out.request.status == "FAILED"
            why = _ANSWER_ALERTS.get("failed" if failed else out.status)
            if why is None:
                continue
            kind, text = why
            subject = ans.request_id if failed else f"{file.name}:{rec.line}"
            where = f"{file.name} line {rec.line}"
            status = out.request.status if out.request is not None else ""
            message = text.format(where=where, rid=ans.request_id, status=status, reason=ans.reason_code,
                                  action=out.request.action if out.request is not None else "")  # fmt: skip
            raise_alert(session, kind, PARTNER, message, subject=subject)
        return errors
