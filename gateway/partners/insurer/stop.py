"""The security stop on BOCINS calls: a security fault (bad credentials, a refused
signature) opens an alert, and while it is open no call goes to the insurer until an
operator resumes (``svcard insurance resume``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.soap import SecurityFault
from gateway.domain.errors import CodedError, Unavailable
from gateway.models import Alert
from gateway.partners.insurer import ID
from gateway.services.alerts import raise_alert
from gateway.timeutil import utcnow

PARTNER = ID
SECURITY_ALERT = "SOAP_SECURITY"


class InsurerStopped(CodedError, Unavailable):
    """Calls to BOCINS are stopped by an open security alert."""

    CODE = "INSURER_UNAVAILABLE"


def stopped_by(session: Session) -> Alert | None:
    """The open security alert that stops calls to BOCINS, if any."""
    return session.scalar(
        select(Alert)
        .where(Alert.kind == SECURITY_ALERT, Alert.partner == PARTNER, Alert.resolved_at.is_(None))
        .limit(1)
    )


def check_not_stopped(session: Session) -> None:
    """Raise ``InsurerStopped`` while the stop is open."""
    alert = stopped_by(session)
    if alert is not None:
        raise InsurerStopped(f"calls to BOCINS stopped: {alert.message} (`svcard insurance resume`)")


def security_alert(session: Session, exc: SecurityFault) -> None:
    """Open the stop for a security fault."""
    raise_alert(session, SECURITY_ALERT, PARTNER, str(exc)[:500], subject="BOCINS: calls stopped")


def resume(session: Session, *, actor: str) -> int:
    """Resolve the security stop for BOCINS; the number of alerts resolved."""
    n = 0
    for alert in session.scalars(
        select(Alert).where(
            Alert.kind == SECURITY_ALERT, Alert.partner == PARTNER, Alert.resolved_at.is_(None)
        )
    ):
        alert.resolved_at, alert.message = utcnow(), f"{alert.message} [resumed by {actor}]"
        n += 1
    return n
