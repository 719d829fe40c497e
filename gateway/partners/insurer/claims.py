"""BOCINS claims (insurer.md): stored exactly as the insurer states them
(``insurance_claims``) and never changed; SVA's verdict (``gateway.domain.cover.check_cover``,
one volunteer's claims, sessions and registration) is stored beside them and recomputed
for every volunteer with a changed claim.

Look-ups (``lookup_claims``) go to the insurer at most once per ``CACHE_SECONDS`` per
question and process; the daily sweep (``sweep_claims``) asks for the claims whose
``statusTime`` is on or after the previous successful sweep's date (the first sweep asks
for every claim, so the stored claims of a volunteer are complete for the limit rule).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.insurer.client import Claim, InsurerPartner
from adapters.soap import SecurityFault, SoapError
from gateway.db import transaction
from gateway.domain import cover
from gateway.models import InsuranceClaim, ServiceSession, Volunteer
from gateway.models.insurance import ClaimSweep
from gateway.models.volunteers import SessionKind
from gateway.partners.insurer import ID
from gateway.partners.insurer.stop import check_not_stopped, security_alert
from gateway.services.ports import Ports
from gateway.timeutil import BEIJING, beijing_today, utcnow

log = logging.getLogger("svcard.insurance")

PARTNER = ID
CACHE_SECONDS = 120.0


@dataclass(frozen=True)
class ClaimView:
    """A claim as the insurer states it, with SVA's verdict."""

    claim_no: str
    volunteer_no: str
    incident_time: datetime
    category: str
    disability_grade: int | None
    claimed_fen: int
    approved_fen: int | None
    paid_fen: int | None
    status: str
    status_time: datetime
    reject_reason: str | None
    covered: bool | None
    allowed_fen: int | None
    flagged: bool
    flags: tuple[tuple[str, str], ...]  # (code, reason)
    notes: tuple[tuple[str, str], ...]

    @property
    def flag_codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.flags)


def _view(row: InsuranceClaim) -> ClaimView:
    return ClaimView(
        row.claim_no, row.volunteer_no, row.incident_time, row.category, row.disability_grade,
        row.claimed_fen, row.approved_fen, row.paid_fen, row.status, row.status_time, row.reject_reason,
        row.covered, row.allowed_fen, bool(row.flagged),
        tuple((f["code"], f["reason"]) for f in row.flags or []),
        tuple((n["code"], n["reason"]) for n in row.notes or []),
    )  # fmt: skip


def store_claims(session: Session, claims: list[Claim]) -> set[str]:
    """Store the insurer's claims as stated (a stale answer never overwrites a newer one);
    the volunteer numbers whose claims changed."""
    touched: set[str] = set()
    now = utcnow()
    numbers = {c.claim_no for c in claims}
    existing = {
        r.claim_no: r for r in session.scalars(select(InsuranceClaim).where(InsuranceClaim.claim_no.in_(numbers)))
    } if numbers else {}  # fmt: skip
    ids = dict(session.execute(
        select(Volunteer.volunteer_no, Volunteer.id).where(Volunteer.volunteer_no.in_({c.volunteer_no for c in claims}))
    ).all()) if claims else {}  # fmt: skip
    for c in claims:
        row = existing.get(c.claim_no)
        if row is None:
            row = InsuranceClaim(claim_no=c.claim_no, flags=[], notes=[], flagged=False)
            session.add(row)
            existing[c.claim_no] = row
        elif row.status_time > c.status_time:
            continue
        row.volunteer_no, row.volunteer_id = c.volunteer_no, ids.get(c.volunteer_no)
        row.incident_time, row.category, row.disability_grade = (
            c.incident_time,
            c.category,
            c.disability_grade,
        )
        row.claimed_fen, row.approved_fen, row.paid_fen = c.claimed_fen, c.approved_fen, c.paid_fen
        row.status, row.status_time, row.reject_reason = c.status, c.status_time, c.reject_reason
        row.fetched_at = now
        touched.add(c.volunteer_no)
    session.flush()
    return touched


def _cover_facts(
    session: Session, volunteer_no: str
) -> tuple[list[cover.ServiceSession], cover.Registration | None]:
    v = session.scalar(select(Volunteer).where(Volunteer.volunteer_no == volunteer_no))
    if v is None or v.official_since is None:
        return [], None
    rows = session.scalars(
        select(ServiceSession).where(
            ServiceSession.volunteer_id == v.id,
            ServiceSession.kind == SessionKind.SESSION,
            ServiceSession.check_in.is_not(None),
        )
    )
    sessions = [cover.ServiceSession(s.check_in, s.check_out, s.district) for s in rows]
    # official since the start of that Beijing day
    since = datetime.combine(v.official_since, datetime.min.time(), BEIJING)
    return sessions, cover.Registration(since, v.deregistered_at)


def check_volunteer(session: Session, volunteer_no: str) -> list[InsuranceClaim]:
    """Apply the cover to every stored claim of the volunteer; the flagged ones."""
    rows = list(session.scalars(select(InsuranceClaim).where(InsuranceClaim.volunteer_no == volunteer_no)))
    sessions, registration = _cover_facts(session, volunteer_no)
    now = utcnow()
    for row, verdict in zip(rows, cover.check_cover(rows, sessions, registration), strict=True):
        row.year, row.covered, row.allowed_fen = verdict.year, verdict.covered, verdict.allowed_fen
        row.flags = [{"code": f.code, "reason": f.reason} for f in verdict.flags]
        row.notes = [{"code": n.code, "reason": n.reason} for n in verdict.notes]
        row.flagged, row.checked_at = verdict.flagged, now
    session.flush()
    return [r for r in rows if r.flagged]


# In-process TTL cache of the questions asked (the answers themselves are in the table).
# Keyed by the runtime's session factory too, so that two runtimes in one process never
# share it (every Ports of one runtime hands in the same factory).
_cache: dict[tuple[str, str, str], float] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _key(ports: Ports, kind: str, value: str) -> tuple[str, str, str]:
    return (f"{id(ports.sessions)}:{ports.settings.database_url}", kind, value)


def _fresh(key: tuple[str, str, str], max_age: float) -> bool:
    with _cache_lock:
        at = _cache.get(key)
    return at is not None and time.monotonic() - at < max_age


def _remember(key: tuple[str, str, str]) -> None:
    with _cache_lock:
        _cache[key] = time.monotonic()


def _check_not_stopped(ports: Ports) -> None:
    with transaction(ports.sessions) as session:
        check_not_stopped(session)


def lookup_claims(
    ports: Ports,
    *,
    volunteer_no: str | None = None,
    claim_no: str | None = None,
    max_age: float = CACHE_SECONDS,
) -> list[ClaimView]:
    """A volunteer's claims, or one claim, with SVA's verdict. Asks the insurer unless the
    same question was asked less than ``max_age`` seconds ago in this process."""
    if (volunteer_no is None) == (claim_no is None):
        raise ValueError("give exactly one of volunteer_no, claim_no")
    client: InsurerPartner | None = None
    if claim_no is not None and not _fresh(_key(ports, "claim", claim_no), max_age):
        _check_not_stopped(ports)
        client = ports.client(PARTNER)
        found = _query(ports, client, claim_no=claim_no)
        with transaction(ports.sessions) as session:
            store_claims(session, found)
        _remember(_key(ports, "claim", claim_no))
        for c in found:  # the limit rule needs every claim of the volunteer
            _refresh_volunteer(ports, client, c.volunteer_no, max_age)
    if volunteer_no is not None:
        if not _fresh(_key(ports, "volunteer", volunteer_no), max_age):
            _check_not_stopped(ports)
            client = client or ports.client(PARTNER)
        _refresh_volunteer(ports, client, volunteer_no, max_age)
    with transaction(ports.sessions) as session:
        return stored_claims(session, volunteer_no=volunteer_no, claim_no=claim_no)


def stored_claims(
    session: Session, *, volunteer_no: str | None = None, claim_no: str | None = None
) -> list[ClaimView]:
    """The claims as last fetched, with SVA's verdict, without asking the insurer."""
    query = select(InsuranceClaim).order_by(InsuranceClaim.incident_time, InsuranceClaim.claim_no)
    if claim_no is not None:
        query = query.where(InsuranceClaim.claim_no == claim_no)
    if volunteer_no is not None:
        query = query.where(InsuranceClaim.volunteer_no == volunteer_no)
    return [_view(r) for r in session.scalars(query)]


def _query(ports: Ports, client: InsurerPartner, **filters: Any) -> list[Claim]:
    try:
        return client.query_claims(**filters)
    except SecurityFault as exc:
        with transaction(ports.sessions) as session:
            security_alert(session, exc)
        raise


def _refresh_volunteer(
    ports: Ports, client: InsurerPartner | None, volunteer_no: str, max_age: float
) -> None:
    key = _key(ports, "volunteer", volunteer_no)
    if _fresh(key, max_age) or client is None:
        return
    found = _query(ports, client, volunteer_no=volunteer_no)
    with transaction(ports.sessions) as session:
        store_claims(session, found)
        check_volunteer(session, volunteer_no)
    _remember(key)


@dataclass
class SweepReport:
    run_date: date
    from_date: date | None
    claims_seen: int = 0
    volunteers: int = 0
    flagged: list[ClaimView] = field(default_factory=list)
    error: str | None = None

    def lines(self) -> list[str]:
        since = f"{self.from_date:%Y%m%d}" if self.from_date else "the beginning"
        if self.error:
            return [f"claims sweep {self.run_date:%Y%m%d} FAILED: {self.error}"]
        out = [f"claims sweep {self.run_date:%Y%m%d}: {self.claims_seen} claim(s) changed since {since}, "
               f"{self.volunteers} volunteer(s) checked, {len(self.flagged)} flagged"]  # fmt: skip
        out += [format_claim(c) for c in self.flagged]
        return out


def sweep_claims(ports: Ports, *, today: date | None = None) -> SweepReport:
    """The daily sweep: claims whose status changed since the last successful sweep's date
    (``fromDate``, inclusive), stored and checked with every claim of their volunteers."""
    day = today or beijing_today()
    _check_not_stopped(ports)
    with transaction(ports.sessions) as session:
        last = session.scalar(
            select(ClaimSweep).where(ClaimSweep.status == "ok").order_by(ClaimSweep.id.desc()).limit(1)
        )
        from_date = last.run_date if last is not None else None
        sweep = ClaimSweep(run_date=day, from_date=from_date, status="running", claims_seen=0, flagged=0)
        session.add(sweep)
        session.flush()
        sweep_id = sweep.id
    report = SweepReport(day, from_date)
    try:
        claims = _query(ports, ports.client(PARTNER), from_date=from_date)
    except SoapError as exc:
        report.error = f"{exc.code}: {exc}"
        with transaction(ports.sessions) as session:
            sweep = session.get(ClaimSweep, sweep_id)
            sweep.status, sweep.error, sweep.finished_at = "failed", report.error[:300], utcnow()
        return report
    with transaction(ports.sessions) as session:
        touched = store_claims(session, claims)
        flagged = []
        for volunteer_no in sorted(touched):
            flagged += check_volunteer(session, volunteer_no)
        sweep = session.get(ClaimSweep, sweep_id)
        sweep.status, sweep.finished_at = "ok", utcnow()
        sweep.claims_seen, sweep.flagged = len(claims), len(flagged)
        report.claims_seen, report.volunteers = len(claims), len(touched)
        report.flagged = [_view(r) for r in flagged]
    for c in report.flagged:
        log.warning("claim %s flagged: %s", c.claim_no, ", ".join(c.flag_codes))
    return report


def flagged_claims(session: Session) -> list[ClaimView]:
    """Every stored claim that fails the cover check, oldest incident first."""
    rows = session.scalars(
        select(InsuranceClaim)
        .where(InsuranceClaim.flagged.is_(True))
        .order_by(InsuranceClaim.incident_time, InsuranceClaim.claim_no)
    )
    return [_view(r) for r in rows]


def stored_claim_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(InsuranceClaim)) or 0


def _yuan(fen: int | None) -> str:
    return "-" if fen is None else f"{fen / 100:,.2f}"


def format_claim(c: ClaimView) -> str:
    """One claim for operators: the insurer's figures (yuan), SVA's allowed amount, flags."""
    when = c.incident_time.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    grade = f" g{c.disability_grade}" if c.disability_grade else ""
    head = (f"{c.claim_no} {c.volunteer_no} {when} {c.category}{grade} {c.status:<12} "
            f"claimed {_yuan(c.claimed_fen)} approved {_yuan(c.approved_fen)} paid {_yuan(c.paid_fen)} "
            f"allowed {_yuan(c.allowed_fen)}")  # fmt: skip
    lines = [head]
    lines += [f"    FLAG {code}: {reason}" for code, reason in c.flags]
    lines += [f"    note {code}: {reason}" for code, reason in c.notes]
    return "\n".join(lines)
