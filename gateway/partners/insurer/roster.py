"""The daily INSROSTER snapshot (insurer.md): every volunteer ever official, with
cover_from = the day they became official and cover_to = the Beijing date of
deregistration (blank while registered).

It is an outbound file of the exchange engine like any other — the engine claims its SEQ,
seals it for BOCINS, spools it and archives both copies — whose upload is the
``UploadRoster`` SOAP call, and the answer is recorded as its ACK (status accepted /
partial / rejected, ack code and text, record errors). A file not yet answered is sent
again under the same name (the insurer returns its first answer); after PARTIAL or
REJECTED the corrected snapshot takes the next SEQ; once a day is ACCEPTED nothing more
is sent for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.insurer.client import RosterAnswer
from adapters.soap import RetryableError, SecurityFault, SoapError
from gateway.db import transaction
from gateway.models import ExchangeFile, Volunteer
from gateway.models.exchange import RecordErrorRow
from gateway.partners.insurer import ID
from gateway.partners.insurer.stop import check_not_stopped, security_alert
from gateway.services import exchange
from gateway.services.alerts import raise_alert
from gateway.services.ports import Ports
from gateway.settings import OUR_ID
from gateway.timeutil import BEIJING, beijing_today, utcnow
from schemas import writer
from schemas.ack import parse_error_text

log = logging.getLogger("svcard.insurance")

PARTNER = ID
FILE_TYPE = "INSROSTER"
ROSTER_ALERT = "ROSTER_NOT_SENT"
ROSTER_ANSWER_ALERT = "ROSTER_NOT_ACCEPTED"


def roster_records(session: Session, business_date: date) -> Iterator[dict[str, Any]]:
    """INSROSTER records: every volunteer ever official, by volunteer number."""
    query = (
        select(Volunteer)
        .where(Volunteer.volunteer_no.is_not(None), Volunteer.official_since.is_not(None))
        .order_by(Volunteer.volunteer_no)
        .execution_options(yield_per=1000)
    )
    for v in session.scalars(query):
        ended = v.deregistered_at.astimezone(BEIJING).date() if v.deregistered_at else None
        yield {
            "volunteer_no": v.volunteer_no,
            "name": v.name,
            "id_type": v.id_type,
            "id_number": v.id_number,
            "birth_date": v.birth_date,
            "cover_from": v.official_since,
            "cover_to": ended,
        }


def _noting(records: Iterator[dict[str, Any]], numbers: list[str]) -> Iterator[dict[str, Any]]:
    for record in records:
        numbers.append(record["volunteer_no"])
        yield record


@dataclass
class RosterReport:
    file_id: int
    name: str
    seq: int
    records: int
    status: str  # prepared (not answered) | accepted | partial | rejected
    ack_code: str | None = None
    ack_text: str | None = None
    roster_id: str | None = None
    uploaded: bool = False
    refused: list[str] = field(default_factory=list)  # our writer's refusals (volunteer: field: reason)
    error: str | None = None  # why it is not answered yet

    def lines(self) -> list[str]:
        out = [f"{self.name}  {self.records} record(s)  {self.status}"
               + (f" {self.ack_code}" if self.ack_code else "")
               + (f"  rosterId {self.roster_id}" if self.roster_id else "")]  # fmt: skip
        if self.ack_text:
            out.append(f"  {self.ack_text}")
        out += [f"  refused by our writer: {r}" for r in self.refused]
        if self.error:
            out.append(f"  NOT SENT: {self.error}")
        elif not self.uploaded:
            out.append("  already answered; nothing sent")
        return out


def _plan(day: date, refused: list[str]) -> exchange.Plan:
    """The engine's plan for ``day``'s roster: the unanswered (or accepted) file, or a new
    snapshot in the next SEQ when there is none or the last was PARTIAL/REJECTED. Our
    writer's refusals (volunteer: field: reason) go into ``refused``."""

    def plan(session: Session, files: list[ExchangeFile], seq: int) -> int | exchange.Draft:
        refused.clear()
        last = files[-1] if files else None
        if last is not None and last.status in ("prepared", "sent", "accepted"):
            return last.id
        numbers: list[str] = []  # record index -> volunteer number (records are streamed)
        plain, result = writer.write_bytes(
            FILE_TYPE, _noting(roster_records(session, day), numbers), sender=OUR_ID, receiver=PARTNER,
            business_date=day, seq=seq, created_time=utcnow().astimezone(BEIJING),
        )  # fmt: skip
        refused.extend(f"{numbers[r.index]}: {r.field}: {r.reason}" for r in result.refused)
        detail = ("refused by our writer: " + "; ".join(refused))[:2000] if refused else None

        def claimed(session: Session, row: ExchangeFile) -> None:
            for r in refused:
                log.warning("%s: record refused: %s", row.name, r)

        return exchange.Draft(plain, result.count, detail=detail, claimed=claimed)

    return plan


def _refusals(detail: str | None) -> str:
    """The "refused by our writer: ..." part of a roster row's detail, kept across updates."""
    mark = "refused by our writer"
    if not detail or mark not in detail:
        return ""
    return detail[detail.index(mark) :].split("; not answered", 1)[0]


def _record_answer(session: Session, row: ExchangeFile, answer: RosterAnswer) -> None:
    row.status = {"ACCEPTED": "accepted", "PARTIAL": "partial", "REJECTED": "rejected"}.get(
        answer.result, "rejected"
    )
    row.ack_status, row.ack_code, row.ack_text = answer.result, answer.error_code, answer.error_text
    row.sent_at = row.sent_at or utcnow()
    refused = _refusals(row.detail)
    if answer.roster_id:  # "rosterId R...; refused by our writer: ..." (refusals kept)
        row.detail = "; ".join(x for x in (f"rosterId {answer.roster_id}", refused) if x)[:2000]
    row.record_errors.clear()
    for e in parse_error_text(answer.error_text):
        row.record_errors.append(RecordErrorRow(line=e.line, field=e.field[:40], reason=e.reason[:200]))
    if row.status != "accepted":
        log.error("%s answered %s %s: %s", row.name, answer.result, answer.error_code, answer.error_text)
        # The snapshot (or some of its records) did not reach the insurer: an operator must
        # see it now, not only in a log line (the record errors are listed on the file).
        raise_alert(
            session, ROSTER_ANSWER_ALERT, PARTNER,
            f"{row.name}: {answer.result} {answer.error_code or ''}".rstrip()
            + f"; {len(row.record_errors)} record error(s) (svcard exchange files --partner BOCINS)",
            subject=row.name,
        )  # fmt: skip


class _UploadRoster:
    """The roster's upload (an ``exchange.Deliver``): the ``UploadRoster`` call, whose
    answer is recorded as the file's ACK. A call that got no answer leaves the file
    ``prepared``, with why on its detail; ``answer`` and ``error`` say which it was."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.answer: RosterAnswer | None = None
        self.error: str | None = None

    def __call__(self, session: Session, row: ExchangeFile, sealed: Path) -> None:
        client = self.ports.client(PARTNER)
        try:
            answer = client.upload_roster(row.name, sealed.read_bytes())
        except SoapError as exc:
            self.error = f"{exc.code}: {exc}"
            why = f"not answered, sent again under the same name next run: {self.error}"
            row.detail = "; ".join(x for x in (_refusals(row.detail), why) if x)[:2000]
            if isinstance(exc, SecurityFault):
                security_alert(session, exc)
            elif not isinstance(exc, RetryableError):
                raise_alert(session, ROSTER_ALERT, PARTNER, f"{row.name}: {self.error}"[:500], row.name)
            log.error("%s: %s", row.name, self.error)
            return
        _record_answer(session, row, answer)
        self.answer = answer


def send_roster(ports: Ports, business_date: date | None = None) -> RosterReport:
    """Build (if due), seal, upload and record the day's INSROSTER; see the module doc."""
    day = business_date or beijing_today()
    with transaction(ports.sessions) as session:
        check_not_stopped(session)
    refused: list[str] = []
    file_id = exchange.claim(ports, PARTNER, FILE_TYPE, day, _plan(day, refused))
    call = _UploadRoster(ports)
    exchange.upload(ports, file_id, call)
    with transaction(ports.sessions) as session:
        row = session.get(ExchangeFile, file_id)
        report = RosterReport(row.id, row.name, row.seq or 0, row.record_count or 0, row.status,
                              row.ack_code, row.ack_text, refused=refused, error=call.error)  # fmt: skip
        if call.answer is not None:
            report.roster_id, report.uploaded = call.answer.roster_id, True
        elif row.status != "prepared":  # answered at an earlier run: read back, not sent
            head = (row.detail or "").split(";", 1)[0]
            report.roster_id = head.removeprefix("rosterId ") if head.startswith("rosterId ") else None
    if call.answer is not None:
        log.info("%s: %s", report.name, call.answer.result)
    return report
