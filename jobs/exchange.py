"""Jobs of the SFTP exchanges: send what is due, fetch, process, acknowledge, and the
missing-file watch. Each takes a partner id and a date (ISO string or None for today in
Beijing), reloads its state, and is safe to run twice — the engine's constraints decide.
Each is a ``jobs.task``: the wrapper builds the ports the engine is handed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from gateway.db import transaction
from gateway.models.exchange import ExchangeFile
from gateway.services import exchange
from gateway.services.alerts import raise_alert
from gateway.services.channels import channel
from gateway.services.expected_files import expected_files
from gateway.services.ports import Ports
from gateway.timeutil import business_day
from jobs.task import Job, task

log = logging.getLogger("svcard.exchange")


@dataclass
class CycleReport:
    partner: str
    business_date: date
    sent: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    processed: list[tuple[str, str]] = field(default_factory=list)  # (name, status)
    acks: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.partner} {self.business_date:%Y%m%d}"]
        out += [f"  sent      {n}" for n in self.sent]
        out += [f"  fetched   {n}" for n in self.fetched]
        out += [f"  duplicate {n} (E06)" for n in self.duplicates]
        out += [f"  held      {n}" for n in self.held]
        out += [f"  applied   {n}: {s}" for n, s in self.processed]
        out += [f"  ack sent  {n}" for n in self.acks]
        if len(out) == 1:
            out.append("  nothing moved")
        return out


@task
def send_scheduled(job: Job, partner: str, business_date: str | None = None) -> list[str]:
    """Send every outbound file of the partner that is due on the date (even empty)."""
    return _send_scheduled(job.ports, partner, business_day(business_date))


def _send_scheduled(ports: Ports, partner: str, day: date) -> list[str]:
    # Files of an earlier run whose upload never completed go first (same bytes, same name).
    failed: list[tuple[str, Exception]] = []
    stranded, error = _upload_stranded(ports, partner)
    sent = [r.name for r in stranded]
    if error is not None:  # today's files are still prepared: the fetch cycles retry them all
        failed.append(("earlier files", error))
    for file_type in channel(partner).outbound:
        # Each scheduled file on its own: a CARDORDER that cannot be built must not keep
        # the day's CARDREQ (loss reports) from going.
        try:
            report = exchange.send(ports, partner, file_type, day)
        except Exception as exc:
            log.exception("%s %s %s: not sent", partner, file_type, day)
            failed.append((file_type, exc))
            continue
        if report is not None:
            sent.append(report.name)
    if failed:
        what = ", ".join(f"{t} ({type(e).__name__})" for t, e in failed)
        raise RuntimeError(
            f"{partner} {day}: not sent: {what}; sent: {', '.join(sent) or 'nothing'}"
        ) from failed[0][1]
    return sent


def _upload_stranded(
    ports: Ports, partner: str, file_type: str | None = None
) -> tuple[list[exchange.SendReport], Exception | None]:
    """The files of earlier runs uploaded now, and the error if some still could not go
    (the caller carries on with its own work and fails at the end)."""
    try:
        return exchange.upload_stranded(ports, partner, file_type), None
    except exchange.UploadsFailed as exc:
        return exc.sent, exc


@task
def fetch_and_process(job: Job, partner: str, business_date: str | None = None) -> CycleReport:
    """Fetch the partner's outbox, apply what is new in the order of the specs, and send
    the ACKs we owe."""
    return _fetch_and_process(job.ports, partner, business_day(business_date))


def _fetch_and_process(ports: Ports, partner: str, day: date) -> CycleReport:
    report = CycleReport(partner, day)
    got = exchange.fetch(ports, partner)
    report.held = got.held
    failures = [f"not applied: {name}" for name in _process_pending(ports, partner, report)]
    # A file whose upload failed earlier goes now rather than at tomorrow's send: an ACK
    # (the data files it answers are marked as acknowledged by it), or a data file.
    stranded, error = _upload_stranded(ports, partner)
    for r in stranded:
        (report.acks if r.name.startswith("ACK_") else report.sent).append(r.name)
    ack = exchange.send_acks(ports, partner)
    if ack is not None:
        report.acks.append(ack.name)
    if error is not None:
        failures.append(str(error))
    with transaction(ports.sessions) as session:
        names = dict(
            session.execute(
                select(ExchangeFile.id, ExchangeFile.name).where(
                    ExchangeFile.id.in_(got.new + got.duplicates)
                )
            ).all()
        )
    report.fetched = [names[i] for i in got.new]
    report.duplicates = [names[i] for i in got.duplicates]
    if failures:
        # After the ACKs for what was applied: the job shows as failed, naming what failed.
        raise RuntimeError(f"{partner}: {'; '.join(failures)}")
    return report


def _process_pending(ports: Ports, partner: str, report: CycleReport | None = None) -> list[str]:
    """Apply the received files in the specs' order; the names of those that failed.

    A file that fails for a reason that is not the partner's (``exchange.process`` raised
    its alert) holds back the later files of its own type and of the types the channel
    applies after it (bank.md: CARDRESULT before CARDSTATUS before SWIPE), but not those
    it applies before it: a SWIPE that cannot be applied must not stop the next days'
    CARDRESULT and CARDSTATUS, while a CARDRESULT that cannot be applied keeps the
    CARDSTATUS files behind it."""
    order = channel(partner).inbound_order
    with transaction(ports.sessions) as session:
        pending = [(f.id, f.name, f.file_type) for f in exchange.pending_inbound(session, partner)]

    def rank(file_type: str | None) -> int:
        return order.index(file_type) if file_type in order else len(order)

    done, failed = [], []
    blocked_from: int | None = None  # rank from which later files wait
    for file_id, name, file_type in pending:
        if blocked_from is not None and file_type != "ACK" and rank(file_type) >= blocked_from:
            continue
        try:
            done.append((name, exchange.process(ports, file_id)))
        except Exception:
            log.exception("%s: %s not applied; the files applied after it wait", partner, name)
            failed.append(name)
            r = rank(file_type)
            blocked_from = r if blocked_from is None else min(blocked_from, r)
    if report is not None:
        report.processed.extend(done)
    return failed


@task
def process_file(job: Job, file_id: int) -> str:
    return exchange.process(job.ports, file_id)


@task
def send_acks(job: Job, partner: str) -> str | None:
    """The ACK file we owe the partner, dated today (the day it is written)."""
    _, error = _upload_stranded(job.ports, partner, "ACK")
    report = exchange.send_acks(job.ports, partner)
    if error is not None:
        raise error
    return report.name if report else None


@task
def run_cycle(job: Job, partner: str, business_date: str | None = None) -> CycleReport:
    """One full cycle, as `svcard exchange run` does: send what is due, fetch, process,
    acknowledge."""
    day = business_day(business_date)
    sent = _send_scheduled(job.ports, partner, day)
    report = _fetch_and_process(job.ports, partner, day)
    report.sent = sent + report.sent
    return report


# ------------------------------------------------------------------ missing files


@task
def check_expected(job: Job, partner: str, today: str | None = None) -> list[str]:
    """Raise an alert for each expected inbound file that has not arrived (run two hours
    after its deadline, by the schedule). Returns the missing file descriptions."""
    day = business_day(today)
    missing = []
    for expected in expected_files(job.session, partner, day):
        if expected.file_id is None:
            what = f"{expected.file_type} for {expected.business_date:%Y%m%d}"
            missing.append(what)
            raise_alert(
                job.session,
                "file_missing",
                partner,
                f"expected {what} has not arrived two hours after its deadline",
                subject=expected.subject,
            )
    return missing
