"""The gateway's state as Prometheus metrics, read from the database at scrape time.

Every process shares the database, so these are the same whichever process answers a
scrape, and they agree with ``svcard`` and the API at that moment. The queries are the
services' own (``card_queries``, ``reconciliation``), aggregates only: no row, and no
value of a row, becomes a label.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.context import Runtime
from gateway.keystore import keystore_for
from gateway.models import Alert, CalendarYear, ExchangeFile, HeldEvent
from gateway.models.cards import HeldStatus
from gateway.models.donations import DonationPeriod
from gateway.models.exchange import RecordErrorRow
from gateway.models.health import HealthRequest, HealthStatus
from gateway.models.transit import TransitRequest, TransitStatus
from gateway.services import card_queries, reconciliation
from gateway.timeutil import beijing_today, utcnow

log = logging.getLogger("svcard.metrics")


class StateCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def collect(self) -> Iterator:
        ok = GaugeMetricFamily(
            "svcard_state_scrape_ok", "1 when every state metric was read from the database"
        )
        try:
            with self.rt.sessions() as session:
                yield from _files(session)
                yield from _work(session)
                yield from _requests(session)
                yield from _last_success(session)
                yield from _calendar_and_donations(session)
            yield from _certificates(self.rt)
        except Exception:  # noqa: BLE001 - a scrape must answer; the failure is a metric and a log line
            log.exception("state metrics: not read")
            ok.add_metric([], 0)
        else:
            ok.add_metric([], 1)
        yield ok


def _files(session: Session) -> Iterator:
    files = CounterMetricFamily(
        "svcard_files", "Exchanged files by partner, direction, type, status and ACK code",
        labels=["partner", "direction", "file_type", "status", "ack_code"],
    )  # fmt: skip
    moved = CounterMetricFamily("svcard_file_bytes", "Bytes of exchanged files (as on the wire)",
                                labels=["partner", "direction"])  # fmt: skip
    rows = session.execute(
        select(ExchangeFile.partner, ExchangeFile.direction, ExchangeFile.file_type, ExchangeFile.status,
               ExchangeFile.ack_code, func.count(), func.coalesce(func.sum(ExchangeFile.size), 0))
        .group_by(ExchangeFile.partner, ExchangeFile.direction, ExchangeFile.file_type,
                  ExchangeFile.status, ExchangeFile.ack_code)
    ).all()  # fmt: skip
    size: dict[tuple[str, str], int] = {}
    for partner, direction, ftype, status, code, n, nbytes in rows:
        files.add_metric([partner, direction, ftype or "", status, code or ""], n)
        size[(partner, direction)] = size.get((partner, direction), 0) + int(nbytes)
    for key, n in sorted(size.items()):
        moved.add_metric(list(key), n)
    errors = CounterMetricFamily(
        "svcard_record_errors", "Record errors by partner, direction, file type and field (the rule broken)",
        labels=["partner", "direction", "file_type", "field"],
    )  # fmt: skip
    for partner, direction, ftype, fld, n in session.execute(
        select(ExchangeFile.partner, ExchangeFile.direction, ExchangeFile.file_type, RecordErrorRow.field,
               func.count())
        .join(RecordErrorRow, RecordErrorRow.file_id == ExchangeFile.id)
        .group_by(ExchangeFile.partner, ExchangeFile.direction, ExchangeFile.file_type, RecordErrorRow.field)
    ):  # fmt: skip
        errors.add_metric([partner, direction, ftype or "", fld], n)
    yield from (files, moved, errors)


def _work(session: Session) -> Iterator:
    alerts = GaugeMetricFamily(
        "svcard_alerts_open", "Open alerts by kind and partner", labels=["kind", "partner"]
    )
    for kind, partner, n in session.execute(
        select(Alert.kind, Alert.partner, func.count())
        .where(Alert.resolved_at.is_(None))
        .group_by(Alert.kind, Alert.partner)
    ):
        alerts.add_metric([kind, partner or ""], n)
    yield alerts
    held = session.scalar(
        select(func.count()).select_from(HeldEvent).where(HeldEvent.status == HeldStatus.HELD)
    )
    yield GaugeMetricFamily("svcard_bank_events_held", "Bank events held for an operator", value=held)
    today = beijing_today()
    orders = GaugeMetricFamily("svcard_orders_awaiting_result", "Card orders awaiting a result, by when "
                               "(late: past due; due_soon: within two working days)", labels=["when"])  # fmt: skip
    orders.add_metric(["late"], len(card_queries.overdue_orders(session, today)))
    orders.add_metric(["due_soon"], len(card_queries.due_soon_orders(session, today)))
    yield orders
    yield GaugeMetricFamily("svcard_cards_at_risk", "Cards at the branch within 30 days of their pickup "
                            "deadline (cut and closed after it)", value=len(card_queries.at_risk_cards(session, today)))  # fmt: skip


def _requests(session: Session) -> Iterator:
    pending = GaugeMetricFamily("svcard_requests_pending", "Requests to a partner not yet answered",
                                labels=["partner_function"])  # fmt: skip
    oldest = GaugeMetricFamily("svcard_requests_oldest_age_seconds", "Age of the oldest request not yet "
                               "answered (0 when none)", labels=["partner_function"])  # fmt: skip
    now = utcnow()
    for name, model, open_statuses in (
        ("health", HealthRequest, [HealthStatus.PENDING]),
        ("transit", TransitRequest, sorted(TransitStatus.OPEN)),
    ):
        n, first = session.execute(
            select(func.count(), func.min(model.created_at)).where(model.status.in_(open_statuses))
        ).one()
        pending.add_metric([name], n)
        oldest.add_metric([name], _age(now, first))
    yield from (pending, oldest)


def _age(now: datetime, then: datetime | None) -> float:
    # UtcDateTime reads back aware on SQLite too, through min() and max() as well
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())


def _last_success(session: Session) -> Iterator:
    """The last file a partner took (uploaded and not refused) or gave (applied)."""
    out = GaugeMetricFamily("svcard_partner_last_success_timestamp_seconds",
                            "When a file last moved with the partner: uploaded and not refused, or applied",
                            labels=["partner"])  # fmt: skip
    sent = dict(session.execute(
        select(ExchangeFile.partner, func.max(ExchangeFile.sent_at))
        .where(ExchangeFile.direction == "out", ExchangeFile.status != "rejected", ExchangeFile.sent_at.is_not(None))
        .group_by(ExchangeFile.partner)
    ).all())  # fmt: skip
    applied = dict(session.execute(
        select(ExchangeFile.partner, func.max(ExchangeFile.applied_at))
        .where(ExchangeFile.direction == "in", ExchangeFile.applied_at.is_not(None))
        .group_by(ExchangeFile.partner)
    ).all())  # fmt: skip
    for partner in sorted(set(sent) | set(applied)):
        last = max(t for t in (sent.get(partner), applied.get(partner)) if t is not None)
        out.add_metric([partner], last.timestamp())
    yield out


def _calendar_and_donations(session: Session) -> Iterator:
    today = beijing_today()
    loaded = session.get(CalendarYear, today.year + 1) is not None
    yield GaugeMetricFamily("svcard_calendar_next_year_loaded",
                            "1 when next year's working-day calendar is loaded", value=int(loaded))  # fmt: skip
    period = (today.replace(day=1) - timedelta(days=1)).strftime("%Y%m")
    row = session.get(DonationPeriod, period)
    yield GaugeMetricFamily("svcard_donations_last_month_reconciled",
                            "1 when last month's reconciliation has been run on the fund's DONATION",
                            value=int(row is not None and row.reported_at is not None))  # fmt: skip
    rep = reconciliation.report(session, period, flagged_limit=0)
    count = GaugeMetricFamily("svcard_donations_last_month_beneficiaries", "Last month's beneficiaries by "
                              "reconciliation class", labels=["class"])  # fmt: skip
    fen = GaugeMetricFamily("svcard_donations_last_month_fen", "Last month's donations in fen, computed by us "
                            "and booked by the fund, by class", labels=["class", "side"])  # fmt: skip
    for c in rep.classes.values():
        count.add_metric([c.klass], c.count)
        fen.add_metric([c.klass, "computed"], c.computed_fen)
        fen.add_metric([c.klass, "booked"], c.booked_fen)
    yield from (count, fen)


def _certificates(rt: Runtime) -> Iterator:
    """Our current certificates, and each partner's newest pinned one (the one that
    matters: an older one expiring during a rotation's overlap is expected)."""
    out = GaugeMetricFamily("svcard_certificate_expiry_timestamp_seconds",
                            "When a certificate expires: ours (owner SVA, role sign|decrypt) and each "
                            "partner's newest pinned", labels=["owner", "role"])  # fmt: skip
    newest: dict[tuple[str, str], float] = {}
    for e in keystore_for(rt.settings).listing():
        if e.not_after is None:
            continue  # an SSH key has no expiry
        if e.role.startswith("partner "):
            key = (e.role.split()[1], "partner")
        elif e.role.endswith("(current)"):
            key = ("SVA", e.role.split()[0])
        else:
            continue
        newest[key] = max(newest.get(key, 0.0), e.not_after.timestamp())
    for key, ts in sorted(newest.items()):
        out.add_metric(list(key), ts)
    yield out
