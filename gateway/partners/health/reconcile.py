"""Reconciliation with SZHC (health.md, Operations: QueryCard is for operators and
reconciliation): what our DONE requests say SZHC holds for each volunteer, against what
QueryCard answers. A weekly job checks a sample; an operator checks everyone on demand.
Each mismatch raises one alert (per volunteer, while open); the calls honour the security
stop like every other call to SZHC. A volunteer whose request may be at SZHC right now
(sent, no answer yet) is left for the next run: its outcome is not known, so a difference
would be no mismatch."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import select

from adapters.soap import ClientFault, SoapError
from gateway.db import transaction
from gateway.models import Card, Volunteer
from gateway.models.health import HealthAction, HealthRequest, HealthStatus
from gateway.partners.health import planning, service
from gateway.services.alerts import raise_alert, resolve_alerts
from gateway.services.ports import Ports

#: The weekly job's sample: enough to see a systematic drift within a week or two,
#: few enough calls that SZHC's service is not loaded (200 calls at night).
WEEKLY_SAMPLE = 200
MISMATCH_ALERT = "health_mismatch"


@dataclass(frozen=True)
class Expected:
    volunteer_no: str
    health_card_no: str
    status: str  # ACTIVE | SUSPENDED
    card_id: str | None  # ACTIVE: the card it must be on
    in_flight: bool = False  # a request was sent and is still unanswered


@dataclass
class ReconcileReport:
    checked: int = 0
    matched: int = 0
    in_flight: int = 0  # a request sent and not answered: compared next time
    mismatches: list[str] = field(default_factory=list)  # volunteer number: what differs
    errors: list[str] = field(default_factory=list)  # volunteer number: the call's fault code
    stopped: str | None = None

    def lines(self) -> list[str]:
        out = [f"health reconcile: {self.checked} checked, {self.matched} matched, "
               f"{len(self.mismatches)} mismatched, {len(self.errors)} not answered"
               + (f", {self.in_flight} in flight" if self.in_flight else "")]  # fmt: skip
        out += [f"  mismatch {m}" for m in self.mismatches]
        out += [f"  error    {e}" for e in self.errors]
        if self.stopped:
            out.append(f"  stopped: {self.stopped}")
        return out


def expected_states(session) -> list[Expected]:
    """Every volunteer SZHC gave a health card number, with what it must hold now."""
    volunteer_ids = session.scalars(
        select(HealthRequest.volunteer_id)
        .where(
            HealthRequest.action == HealthAction.ENROL,
            HealthRequest.status == HealthStatus.DONE,
            HealthRequest.health_card_no.is_not(None),
        )
        .distinct()
        .order_by(HealthRequest.volunteer_id)
    ).all()
    out = []
    for vid in volunteer_ids:
        history = service.history(session, vid)
        number = planning.health_card_number(history)
        held = planning.szhc_holds(history)
        v = session.get(Volunteer, vid)
        card_id = session.get(Card, held[0]).card_id if held else None
        # PENDING with attempts: sent (or an ERROR raised again), outcome unknown
        sent = any(r.status == HealthStatus.PENDING and r.attempts > 0 for r in history)
        out.append(Expected(v.volunteer_no, number, "ACTIVE" if held else "SUSPENDED", card_id, sent))
    return out


def reconcile(
    ports: Ports, *, sample: int | None = WEEKLY_SAMPLE, seed: int | None = None
) -> ReconcileReport:
    """Compare ``sample`` volunteers (all with ``None``) with QueryCard; an alert per mismatch."""
    report = ReconcileReport()
    with transaction(ports.sessions) as session:
        alert = service.stopped_by(session)
        if alert is not None:  # not even the client is built
            report.stopped = f"calls to {service.PARTNER} stopped: {alert.message}"
            return report
        expected = expected_states(session)
    if sample is not None and len(expected) > sample:
        expected = random.Random(seed).sample(expected, sample)
    report.in_flight = sum(e.in_flight for e in expected)
    expected = [e for e in expected if not e.in_flight]
    for e in expected:
        try:
            got = service.query_card(ports, e.health_card_no)
        except service.HealthStopped as exc:
            report.stopped = exc.message
            break
        except ClientFault:
            # health.md: an unknown number is a Client fault; SZHC gave us this one
            got = None
        except SoapError as exc:
            report.errors.append(f"{e.volunteer_no}: {exc.code}")
            if isinstance(exc, service.SecurityFault):
                report.stopped = f"security fault: {exc.code}"
                break
            continue
        report.checked += 1
        differs = _differs(e, got.status, got.card_id) if got else _UNKNOWN
        subject = f"{service.PARTNER}:{e.volunteer_no}"
        with transaction(ports.sessions) as session:
            if differs:
                report.mismatches.append(f"{e.volunteer_no}: {differs}")
                raise_alert(
                    session, MISMATCH_ALERT, service.PARTNER,
                    f"volunteer {e.volunteer_no}: {differs}; an operator checks with `svcard health query`",
                    subject=subject,
                )  # fmt: skip
            else:
                report.matched += 1
                resolve_alerts(session, MISMATCH_ALERT, subject, "QueryCard agrees again")
    return report


_UNKNOWN = "QueryCard answers a Client fault (unknown number, health.md) for the number EnrollCard gave us"


def _differs(e: Expected, status: str, card_id: str) -> str | None:
    if status != e.status:
        return f"SZHC says {status}, our requests say {e.status}"
    if e.status == "ACTIVE" and card_id != e.card_id:
        return f"SZHC has it ACTIVE on card {card_id}, our requests on card {e.card_id}"
    return None
