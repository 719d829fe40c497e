"""Alerts: what an operator must know, as rows (``svcard exchange alerts``) and as lines
on the ``svcard.alert`` log channel. Every area raises them through ``raise_alert``."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models.exchange import Alert
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
