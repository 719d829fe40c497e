"""Alerts: what an operator must know, as rows (``svcard exchange alerts``) and as lines
on the ``svcard.alert`` log channel. Every area raises them through ``raise_alert``."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.errors import DomainError
from gateway.models.exchange import Alert
from gateway.partners import registry
from gateway.timeutil import utcnow

alert_log = logging.getLogger("svcard.alert")


def raise_alert(
    session: Session, kind: str, partner: str | None, message: str, subject: str | None = None
) -> None:
    """Record an alert (once per open subject) and log it on the alert channel."""
    if subject:
        open_one = session.scalar(
            select(Alert.id).where(Alert.kind == kind, Alert.subject == subject, Alert.resolved_at.is_(None))
        )
        if open_one:
            return
    session.add(Alert(kind=kind, partner=partner, subject=subject, message=message))
    alert_log.error("%s %s: %s", kind, partner or "-", message)


def resolve_alerts(session: Session, kind: str, subject: str, why: str) -> int:
    """Close the open alerts of ``kind`` on ``subject`` (their cause is gone); how many."""
    rows = session.scalars(
        select(Alert).where(Alert.kind == kind, Alert.subject == subject, Alert.resolved_at.is_(None))
    ).all()
    for alert in rows:
        alert.resolved_at = utcnow()
        alert.message = f"{alert.message} [resolved: {why}]"
    return len(rows)


class AlertRefused(DomainError):
    """An alert that cannot be acknowledged here; the message says why."""


def acknowledge(session: Session, alert_id: int, *, actor: str, note: str) -> Alert:
    """Close an alert an operator has dealt with, the note recorded on it (``svcard exchange
    resolve-alert`` and the console). An alert that stops calls to a SOAP partner is lifted
    by that partner's own resume command, not here."""
    if not note.strip():
        raise AlertRefused("NOTE_REQUIRED", "a note is required", "note")
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertRefused("ALERT_NOT_FOUND", f"no alert {alert_id}", "alert_id")
    if alert.resolved_at is not None:
        raise AlertRefused("ALERT_RESOLVED", f"alert {alert_id} is already resolved", "alert_id")
    if alert.kind == "SOAP_SECURITY":
        declared = registry.get(alert.partner) if alert.partner in registry.ids() else None
        how = (declared and declared.resume_command) or "the partner's resume command"
        raise AlertRefused(
            "ALERT_STOPS_PARTNER", f"alert {alert_id} stops calls to {alert.partner}: lift it with `{how}`"
        )
    alert.resolved_at = utcnow()
    alert.message = f"{alert.message} [resolved by {actor}: {note.strip()}]"
    return alert


def open_alerts(session: Session, *, limit: int = 50) -> list[Alert]:
    """The newest open alerts (at most ``limit``)."""
    return list(
        session.scalars(
            select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.id.desc()).limit(limit)
        )
    )
