"""The fund's file channel (fund.md): DONATIONEXP out, DONATION in.

DONATIONEXP for a month goes on the 3rd of the next month — but only once every day of
that month has an applied SWIPE file. An operator may send it earlier; that decision
(who, when, why) is recorded on the period (:func:`decide_early`). A month whose file is
sent is not sent again; a month whose file the fund rejected goes again in the next SEQ
(unless the code is E06: the fund has it already).

DONATION receipts add up per beneficiary and period (corrections may be negative); a
``receipt_id`` seen before is a resend and changes nothing. Each file recomputes the
reconciliation of every period it names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.errors import CodedError, Conflict, Invalid
from gateway.models.donations import DonationPeriod, DonationReceipt
from gateway.models.exchange import ExchangeFile
from gateway.partners.fund import ID
from gateway.services import reconciliation
from gateway.services.alerts import resolve_alerts
from gateway.services.channels import AckOutcome, Batch, Refusal
from gateway.timeutil import utcnow
from schemas.reader import Header, Record

log = logging.getLogger("svcard.fund")
PARTNER = ID
SEND_DAY = 3  # fund.md: the 3rd calendar day of each month
HELD_ALERT = "donationexp_held"  # a due month held back for missing SWIPE days (jobs.donations)


def held_subject(period: str) -> str:
    return f"{PARTNER}:DONATIONEXP:{period}"


def previous_period(day: date) -> str:
    return f"{day.year - 1}12" if day.month == 1 else f"{day.year}{day.month - 1:02d}"


def _period_start(period: str) -> date:
    return date(int(period[:4]), int(period[4:]), 1)


class NotReady(CodedError, Conflict):
    """DONATIONEXP for a month that still misses SWIPE days, without an operator's decision."""

    CODE, FIELD = "MONTH_NOT_READY", "period"


def before_go_live(session: Session, period: str) -> bool:
    """A month that ended before the first SWIPE file the gateway applied (or any month
    while none has been) had no swipes here: no DONATIONEXP is owed for it, so it is never
    held back (docs/decisions.md, "The months before go-live")."""
    first = reconciliation.first_swipe_day(session)
    return first is None or reconciliation.month_bounds(period)[1] < first


def decide_early(session: Session, period: str, reason: str, actor: str) -> DonationPeriod:
    """Record an operator's decision to send the month's DONATIONEXP before every day has
    an applied SWIPE file."""
    reconciliation.month_bounds(period)  # validates YYYYMM
    if not reason or not reason.strip():
        raise Invalid("REASON_REQUIRED", "a reason is required to send DONATIONEXP early", "reason")
    row = session.get(DonationPeriod, period) or DonationPeriod(period=period)
    if row.exp_file_id is not None:
        raise Conflict(
            "ALREADY_SENT", f"DONATIONEXP for {period} was already sent (file {row.exp_file_id})", "period"
        )
    row.early_reason, row.early_by, row.early_at = reason.strip(), actor, utcnow()
    session.add(row)
    session.flush()
    log.warning("DONATIONEXP %s: early send decided by %s: %s", period, actor, reason.strip())
    return row


def ready_periods(session: Session, business_date: date) -> list[str]:
    """Months whose DONATIONEXP is due on ``business_date`` and not sent: complete months
    from the 3rd of the next month on (the three months before, so a month completed late
    still goes), and any month with an operator's early decision."""
    candidates: set[str] = set()
    d = business_date
    for _ in range(3):
        p = previous_period(d)
        start = _period_start(p)
        due_from = date(d.year, d.month, SEND_DAY)
        if business_date >= due_from and not reconciliation.missing_days(session, p):
            candidates.add(p)
        d = start
    early = session.scalars(
        select(DonationPeriod.period).where(
            DonationPeriod.early_at.is_not(None), DonationPeriod.exp_file_id.is_(None)
        )
    )
    candidates.update(early)
    sent = set(
        session.scalars(
            select(DonationPeriod.period).where(
                DonationPeriod.period.in_(candidates), DonationPeriod.exp_file_id.is_not(None)
            )
        )
    )
    return sorted(candidates - sent)


class DonationExpBuilder:
    """DONATIONEXP: one line per beneficiary with donation activity, per ready month."""

    file_type, ext = "DONATIONEXP", "txt"

    def due_on(self, session: Session, business_date: date) -> bool:
        return bool(ready_periods(session, business_date))

    def collect(self, session: Session, business_date: date) -> Batch:
        batch = Batch()
        for period in ready_periods(session, business_date):
            for line in reconciliation.expected_lines(session, period):
                batch.records.append(line)
                batch.refs.append(("donation_period", f"{period}:{line['volunteer_no']}"))
        return batch

    def mark_in_file(
        self, session: Session, file: ExchangeFile, written: list[tuple[str, str]], refused: list[Refusal]
    ) -> None:
        # The file also stands for ready months without activity (no line: an empty month).
        periods = ready_periods(session, file.business_date)
        lines = {p: [0, 0] for p in periods}
        for _kind, ref in written:
            p = ref.split(":", 1)[0]
            lines.setdefault(p, [0, 0])[0] += 1
        for p, (n, _) in lines.items():
            row = session.get(DonationPeriod, p) or DonationPeriod(period=p)
            row.exp_file_id, row.exp_lines = file.id, n
            row.exp_total_fen = sum(x["expected_fen"] for x in reconciliation.expected_lines(session, p))
            session.add(row)
            # Closed here, whatever sent it (the 3rd's send, the daily job, an operator's early send).
            resolve_alerts(session, HELD_ALERT, held_subject(p), f"sent in {file.name}")
        for r in refused:  # cannot happen with computed figures; never silent if it does
            log.error("DONATIONEXP %s: %s refused by the writer: %s: %s", file.name, r.ref, r.field, r.reason)

    def on_ack(self, session: Session, file: ExchangeFile, outcome: AckOutcome) -> None:
        if outcome.status != "REJECTED":
            return
        if outcome.code == "E06":
            # README "ACK codes": E06 is "already received, no action": the fund has the
            # month already, so it must not go again under a new SEQ.
            log.info("DONATIONEXP %s: E06, the fund has it already; not sent again", file.name)
            return
        # A file rejected whole was never received: its months go again in the next SEQ.
        for row in session.scalars(select(DonationPeriod).where(DonationPeriod.exp_file_id == file.id)):
            row.exp_file_id = None
            log.warning(
                "DONATIONEXP %s rejected (%s): %s will be sent again", file.name, outcome.code, row.period
            )


class DonationHandler:
    """DONATION: the fund's receipts, applied and (by the engine) acknowledged."""

    file_type = "DONATION"

    def apply(self, session: Session, file: ExchangeFile, header: Header, records: Iterator[Record]) -> None:
        periods: set[str] = set()
        new = resent = 0
        batch: list[dict] = []

        def flush() -> None:
            nonlocal new, resent
            ids = [r["receipt_id"] for r in batch]
            known = set(
                session.scalars(select(DonationReceipt.receipt_id).where(DonationReceipt.receipt_id.in_(ids)))
            )
            for r in batch:
                if r["receipt_id"] in known:
                    resent += 1  # unique for ever: a resend changes nothing
                    continue
                known.add(r["receipt_id"])
                session.add(DonationReceipt(**r))
                periods.add(r["period"])
                new += 1
            session.flush()
            batch.clear()

        for rec in records:
            d = rec.data
            batch.append(
                {
                    "receipt_id": d["receipt_id"],
                    "volunteer_no": d["volunteer_no"],
                    "period": d["period"],
                    "amount_fen": d["amount_fen"],
                    "received_date": d["received_date"],
                    "file_id": file.id,
                    "line": rec.line,
                }
            )
            if len(batch) >= 5000:
                flush()
        flush()
        for p in sorted(periods):
            reconciliation.refresh(session, p)  # late receipts recompute the month
        file.detail = (
            f"{new} receipts applied, {resent} already received; periods {', '.join(sorted(periods)) or '-'}"
        )
        log.info("DONATION %s: %s", file.name, file.detail)
