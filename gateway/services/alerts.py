"""Alerts: what an operator must know, as rows (``svcard exchange alerts``) and as lines
on the ``svcard.alert`` log channel. Every area raises them through ``raise_alert``."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models.exchange import Alert

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
