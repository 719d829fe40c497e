"""Donation jobs: DONATIONEXP for a month that completed after the 3rd, and the
reconciliation of a month refreshed on demand. Safe to run twice (a month is sent once).

The schedule sends SZVF's files on the 3rd (``jobs.schedule``); a month whose last SWIPE
file arrives later would otherwise wait a month. Run ``send_expected`` daily: it sends
only months that are complete, due (from the 3rd of the next month) and not yet sent.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db import transaction
from gateway.models.donations import DonationPeriod
from gateway.models.exchange import Alert, ExchangeFile
from gateway.partners.fund import exchange as fund_exchange
from gateway.services import exchange, reconciliation
from gateway.services.alerts import alert_log, raise_alert
from gateway.timeutil import business_day
from jobs.task import Job, task

DONATION_BY = 10  # fund.md: DONATION by the 10th of each month, for the previous month


@task
def send_expected(job: Job, business_date: str | None = None) -> str | None:
    """Send DONATIONEXP if a month is ready (complete and due) and not sent; the file name.

    Run daily: from the 3rd, a previous month still missing SWIPE days is held back
    (fund.md: it goes only once complete) with an alert naming the missing days, and goes
    the day it completes; the alert is closed when the month is sent, by whatever path
    (``fund_exchange.DonationExpBuilder.mark_in_file``)."""
    day = business_day(business_date)
    # Committed before the send, whose transaction closes a held alert once it goes.
    with transaction(job.ports.sessions) as session:
        _alert_held(session, day)
        ready = fund_exchange.ready_periods(session, day)
    if not ready:
        return None
    report = exchange.send(job.ports, fund_exchange.PARTNER, "DONATIONEXP", day)
    return report.name if report else None


def _alert_held(session: Session, day: date) -> None:
    """The previous month once due, and every month whose held alert is still open (its
    missing days change as the bank's late files arrive)."""
    open_subjects = session.scalars(
        select(Alert.subject).where(Alert.kind == fund_exchange.HELD_ALERT, Alert.resolved_at.is_(None))
    )
    periods = {s.rsplit(":", 1)[1] for s in open_subjects if s}
    if day.day >= fund_exchange.SEND_DAY:
        periods.add(fund_exchange.previous_period(day))
    for period in sorted(periods):
        _alert_if_held(session, period)


def _alert_if_held(session: Session, period: str) -> None:
    row = session.get(DonationPeriod, period)
    if row is not None and (row.exp_file_id is not None or row.early_at is not None):
        return  # sent, or going early by an operator's decision
    if fund_exchange.before_go_live(session, period):
        return
    missing = reconciliation.missing_days(session, period)
    if not missing:
        return  # complete: it goes in this run's send, which closes the alert
    days = ", ".join(f"{d:%Y%m%d}" for d in missing)
    message = (
        f"DONATIONEXP for {period} held back: no applied SWIPE file for {len(missing)} day(s): {days}; "
        "it goes the day the month is complete (or `svcard donations send-exp PERIOD --early --reason ...`)"
    )
    subject = fund_exchange.held_subject(period)
    alert = session.scalar(
        select(Alert).where(
            Alert.kind == fund_exchange.HELD_ALERT, Alert.subject == subject, Alert.resolved_at.is_(None)
        )
    )
    if alert is None:
        raise_alert(session, fund_exchange.HELD_ALERT, fund_exchange.PARTNER, message, subject=subject)
    elif alert.message != message:
        # name the days still missing, not those of the day it was raised
        alert.message = message
        alert_log.error("%s %s: %s", fund_exchange.HELD_ALERT, fund_exchange.PARTNER, message)


@task
def refresh_report(job: Job, period: str) -> dict:
    """Recompute a month's reconciliation and keep its summary (e.g. after an operator
    corrected data); returns the summary."""
    return reconciliation.refresh(job.session, period).summary()


@task
def check_donation_received(job: Job, today: str | None = None) -> str | None:
    """From the 11th (README.md: two hours past the deadline, the end of the 10th): raise
    an alert when no DONATION file arrived this month for the previous month. Returns
    the missing file's description, or None. Safe daily (one open alert per month)."""
    day = business_day(today)
    if day.day <= DONATION_BY:
        return None
    period = fund_exchange.previous_period(day)
    session = job.session
    have = session.scalar(
        select(ExchangeFile.id).where(
            ExchangeFile.partner == fund_exchange.PARTNER,
            ExchangeFile.direction == "in",
            ExchangeFile.file_type == "DONATION",
            # a file we refused (REJECTED) or a duplicate never arrived as far as the
            # fund's obligation goes: only an applied one counts
            ExchangeFile.status.in_(("processed", "partial")),
            ExchangeFile.business_date.between(day.replace(day=1), day),
        )
    )
    if have is not None:
        return None
    what = f"DONATION for {period}"
    raise_alert(
        session,
        "file_missing",
        fund_exchange.PARTNER,
        f"expected {what} has not arrived by the 10th",
        subject=f"{fund_exchange.PARTNER}:DONATION:{period}",
    )
    return what
