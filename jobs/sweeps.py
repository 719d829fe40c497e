"""The daily sweeps: what operators must chase today.

Each sweep raises at most one open alert per subject (an order, a request, a file), so
running it twice — or on two workers — adds nothing; the daily at-risk list is written as
a report file for the volunteer organisations (volunteer numbers only, no other PII).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.models.cards import CardRequest, RequestStatus
from gateway.models.exchange import Alert, ExchangeFile, OutboundItem
from gateway.partners import registry
from gateway.partners.bank import ID as BANK
from gateway.services import calendar as cal_service
from gateway.services import card_queries
from gateway.services.alerts import raise_alert
from gateway.services.calendar import working_calendar
from gateway.timeutil import as_beijing, business_day, utcnow
from jobs.task import Job, task


@task
def service_levels(job: Job, today: str | None = None) -> dict[str, int]:
    """Alert on every order past its PRODUCED/NOTIFIED due date, and on every order due
    within two working days without its result, so the bank is chased in time."""
    day = business_day(today)
    session = job.session
    late = card_queries.overdue_orders(session, day)
    soon = card_queries.due_soon_orders(session, day)
    for o in late:
        raise_alert(
            session,
            "order_overdue",
            BANK,
            f"order {o.order_id}: {o.result} was due {o.due:%Y%m%d}"
            f"{' (provisional)' if o.provisional else ''}",
            subject=f"{o.order_id}:{o.result}:late",
        )
    for o in soon:
        raise_alert(
            session,
            "order_due_soon",
            BANK,
            f"order {o.order_id}: {o.result} due {o.due:%Y%m%d}, not yet received",
            subject=f"{o.order_id}:{o.result}:soon",
        )
    # An alert whose order has had its result (or whose "soon" became "late") is closed:
    # the open alerts are what is still to chase today.
    current = {f"{o.order_id}:{o.result}:late" for o in late} | {
        f"{o.order_id}:{o.result}:soon" for o in soon
    }
    for alert in session.scalars(
        select(Alert).where(Alert.kind.in_(("order_overdue", "order_due_soon")), Alert.resolved_at.is_(None))
    ):
        if alert.subject not in current:
            alert.resolved_at = utcnow()
            alert.message = f"{alert.message} [resolved by the sweep of {day:%Y%m%d}]"
    return {"overdue": len(late), "due_soon": len(soon)}


@task
def at_risk_report(job: Job, today: str | None = None) -> str:
    """Write today's list of cards at risk of being cut and closed; returns its path."""
    day = business_day(today)
    folder = job.ports.settings.var_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"at-risk-{day:%Y%m%d}.csv"
    session = job.session
    rows = card_queries.at_risk_cards(session, day)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["volunteer_no", "branch_code", "notified_on", "pickup_deadline", "days_left"])
        for r in rows:
            w.writerow(
                [
                    r.volunteer_no,
                    r.branch_code,
                    f"{r.notified_on:%Y%m%d}",
                    f"{r.pickup_deadline:%Y%m%d}",
                    r.days_left,
                ]
            )
    return str(path)


@task
def open_requests(job: Job, today: str | None = None) -> int:
    """bank.md: a CARDREQ request still open two working days after it was sent goes to an
    operator."""
    day = business_day(today)
    n = 0
    session = job.session
    cal = working_calendar(session)
    # The file a request went in is known from the engine's outbound items.
    sent = session.execute(
        select(CardRequest, func.min(ExchangeFile.sent_at))
        .join(
            OutboundItem,
            (OutboundItem.kind == "card_request") & (OutboundItem.ref == CardRequest.request_id),
        )
        .join(ExchangeFile, ExchangeFile.id == OutboundItem.file_id)
        .where(CardRequest.status == RequestStatus.SENT, ExchangeFile.sent_at.is_not(None))
        .group_by(CardRequest.id)
    ).all()
    for req, sent_at in sent:
        if cal.add_working_days(as_beijing(sent_at).date(), 2).day < day:
            n += 1
            raise_alert(
                session,
                "request_unanswered",
                BANK,
                f"{req.request_type} {req.request_id} unanswered two working days after it was sent",
                subject=req.request_id,
            )
    return n


@task
def missing_acks(job: Job, today: str | None = None) -> int:
    """A file we sent that has no ACK by the end of the next working day goes to an
    operator (partners/README.md: ACK within one working day)."""
    day = business_day(today)
    session = job.session
    cal = working_calendar(session)
    sent = session.scalars(
        select(ExchangeFile).where(
            ExchangeFile.direction == "out",
            ExchangeFile.status == "sent",
            ExchangeFile.file_type != "ACK",
            ExchangeFile.sent_at.is_not(None),
        )
    ).all()
    late = (f for f in sent if cal.add_working_days(as_beijing(f.sent_at).date(), 1).day < day)
    return _alert_each(
        session, "ack_missing", late, lambda f: f"{f.name}: no ACK one working day after sending"
    )


def _alert_each(
    session: Session,
    kind: str,
    files: Iterable[ExchangeFile],
    message: Callable[[ExchangeFile], str],
    subject: Callable[[ExchangeFile], str] = lambda f: f.name,
) -> int:
    """An alert of ``kind`` for each file (``raise_alert`` keeps one open per subject);
    how many files there were."""
    n = 0
    for f in files:
        n += 1
        raise_alert(session, kind, f.partner, message(f), subject=subject(f))
    return n


#: A file still ``prepared`` this long after it was written did not go: its upload failed
#: and the partner's next send or fetch run has not managed it either.
UPLOAD_GRACE = timedelta(hours=1)
#: An ACK we owe is sent in the same cycle that applied the file; one still owed after
#: this long will miss "by the end of the next working day" unless someone looks.
ACK_GRACE = timedelta(hours=6)


@task
def unsent_files(job: Job, now: datetime | None = None) -> int:
    """Alert on every outbound file (data or ACK) not uploaded an hour after it was written,
    and on every partner file whose ACK we still owe six hours after it arrived: both
    otherwise show only as failed jobs."""
    at = now or utcnow()
    session = job.session
    stuck = session.scalars(
        select(ExchangeFile).where(
            # SFTP files only: an unanswered INSROSTER is superseded by the next day's
            # snapshot and never uploaded again (the roster job fails visibly instead).
            ExchangeFile.partner.in_(registry.file_partner_ids()),
            ExchangeFile.direction == "out",
            ExchangeFile.status == "prepared",
            ExchangeFile.created_at < at - UPLOAD_GRACE,
        )
    ).all()
    owed = session.scalars(
        select(ExchangeFile).where(
            ExchangeFile.direction == "in",
            ExchangeFile.ack_status.is_not(None),
            ExchangeFile.ack_file_id.is_(None),
            ExchangeFile.created_at < at - ACK_GRACE,
        )
    ).all()
    not_uploaded = _alert_each(
        session,
        "file_not_uploaded",
        stuck,
        lambda f: (
            f"{f.name}: written {f.created_at:%Y-%m-%d %H:%M}Z and still not uploaded; "
            "it goes at the next run of the partner's jobs (see the worker log for why it failed)"
        ),
    )
    not_sent = _alert_each(
        session,
        "ack_not_sent",
        owed,
        lambda f: (
            f"{f.name}: our {f.ack_status} ACK is still not sent (due by the end of the next working day)"
        ),
        subject=lambda f: f"ack:{f.name}",
    )
    return not_uploaded + not_sent


def daily(today: str | None = None) -> dict[str, object]:
    """Every daily sweep but the missing-file watch (scheduled at each partner's deadline)."""
    day = business_day(today)
    result: dict[str, object] = dict(service_levels(day.isoformat()))
    result["at_risk_report"] = at_risk_report(day.isoformat())
    result["requests_unanswered"] = open_requests(day.isoformat())
    result["acks_missing"] = missing_acks(day.isoformat())
    result["files_unsent"] = unsent_files()
    result["calendar_next_year"] = calendar_next_year(day.isoformat())
    return result


@task
def calendar_next_year(job: Job, today: str | None = None) -> str | None:
    """From 1 December, an alert while next year's working-day calendar is not loaded."""
    session = job.session
    return cal_service.check_next_year(session, business_day(today))
