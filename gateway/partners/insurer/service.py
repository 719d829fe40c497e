"""BOC Insurance (insurer.md): the daily INSROSTER snapshot, claim look-ups, the daily
sweep of changed claims, and the cover check of every APPROVED or PAID claim.

- Roster (``send_roster``): every volunteer ever official, with cover_from = the day they
  became official and cover_to = the Beijing date of deregistration (blank while
  registered), sealed for BOCINS and sent with ``UploadRoster``. It is an outbound
  ``exchange_files`` row like any file: both archive copies, and the answer recorded as
  its ACK (status accepted / partial / rejected, ack code and text, record errors). A file
  not yet answered is sent again under the same name (the insurer returns its first
  answer); after PARTIAL or REJECTED the corrected snapshot takes the next SEQ; once a day
  is ACCEPTED nothing more is sent for it.
- Claims are stored exactly as the insurer states them (``insurance_claims``) and never
  changed; SVA's verdict (``gateway.domain.cover.check_cover``, one volunteer's claims,
  sessions and registration) is stored beside them and recomputed for every volunteer
  with a changed claim.
- Look-ups (``lookup_claims``) go to the insurer at most once per ``CACHE_SECONDS`` per
  question and process; the daily sweep (``sweep_claims``) asks for the claims whose
  ``statusTime`` is on or after the previous successful sweep's date (the first sweep asks
  for every claim, so the stored claims of a volunteer are complete for the limit rule).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.insurer.client import Claim, InsurerPartner, RosterAnswer
from adapters.soap import RetryableError, SecurityFault, SoapError
from gateway import context
from gateway.db import transaction
from gateway.domain import cover
from gateway.domain.errors import CodedError, Unavailable
from gateway.keystore import keystore
from gateway.models import Alert, ExchangeFile, InsuranceClaim, ServiceSession, Volunteer
from gateway.models.exchange import RecordErrorRow
from gateway.models.insurance import ClaimSweep
from gateway.models.volunteers import SessionKind
from gateway.partners.insurer import ID
from gateway.services import archive
from gateway.services.alerts import raise_alert
from gateway.settings import OUR_ID
from gateway.timeutil import BEIJING, beijing_today, utcnow
from schemas import writer
from schemas.ack import parse_error_text

log = logging.getLogger("svcard.insurance")

PARTNER = ID
FILE_TYPE = "INSROSTER"
SECURITY_ALERT = "SOAP_SECURITY"
ROSTER_ALERT = "ROSTER_NOT_SENT"
ROSTER_ANSWER_ALERT = "ROSTER_NOT_ACCEPTED"
CACHE_SECONDS = 120.0


def default_client() -> InsurerPartner:
    """BOCINS from settings (URL, credentials, timeout, CA bundle, retry policy)."""
    from adapters.insurer.client import InsurerClient
    from gateway.services.soap_endpoints import endpoint

    return InsurerClient(endpoint(context.current().settings, PARTNER))


def stopped_by(session: Session) -> Alert | None:
    """The open security alert that stops calls to BOCINS, if any."""
    return session.scalar(
        select(Alert)
        .where(Alert.kind == SECURITY_ALERT, Alert.partner == PARTNER, Alert.resolved_at.is_(None))
        .limit(1)
    )


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


class InsurerStopped(CodedError, Unavailable):
    """Calls to BOCINS are stopped by an open security alert."""

    CODE = "INSURER_UNAVAILABLE"


def _check_not_stopped() -> None:
    with transaction(context.current().sessions) as session:
        alert = stopped_by(session)
        if alert is not None:
            raise InsurerStopped(f"calls to BOCINS stopped: {alert.message} (`svcard insurance resume`)")


def _security_alert(exc: SecurityFault) -> None:
    with transaction(context.current().sessions) as session:
        raise_alert(session, SECURITY_ALERT, PARTNER, str(exc)[:500], subject="BOCINS: calls stopped")


# --------------------------------------------------------------------- roster


def roster_records(session: Session, business_date: date) -> Iterator[dict[str, Any]]:
    """INSROSTER records: every volunteer ever official, by volunteer number."""
    query = (
        select(Volunteer)
        .where(Volunteer.volunteer_no.is_not(None), Volunteer.official_since.is_not(None))
        .order_by(Volunteer.volunteer_no)
        .execution_options(yield_per=1000)
    )
    for v in session.scalars(query):
        ended = v.deregistered_at.astimezone(BEIJING).date() if v.deregistered_at else None
        yield {
            "volunteer_no": v.volunteer_no,
            "name": v.name,
            "id_type": v.id_type,
            "id_number": v.id_number,
            "birth_date": v.birth_date,
            "cover_from": v.official_since,
            "cover_to": ended,
        }


def _noting(records: Iterator[dict[str, Any]], numbers: list[str]) -> Iterator[dict[str, Any]]:
    for record in records:
        numbers.append(record["volunteer_no"])
        yield record


@dataclass
class RosterReport:
    file_id: int
    name: str
    seq: int
    records: int
    status: str  # prepared (not answered) | accepted | partial | rejected
    ack_code: str | None = None
    ack_text: str | None = None
    roster_id: str | None = None
    uploaded: bool = False
    refused: list[str] = field(default_factory=list)  # our writer's refusals (volunteer: field: reason)
    error: str | None = None  # why it is not answered yet

    def lines(self) -> list[str]:
        out = [f"{self.name}  {self.records} record(s)  {self.status}"
               + (f" {self.ack_code}" if self.ack_code else "")
               + (f"  rosterId {self.roster_id}" if self.roster_id else "")]  # fmt: skip
        if self.ack_text:
            out.append(f"  {self.ack_text}")
        out += [f"  refused by our writer: {r}" for r in self.refused]
        if self.error:
            out.append(f"  NOT SENT: {self.error}")
        elif not self.uploaded:
            out.append("  already answered; nothing sent")
        return out


def _prepare_roster(day: date) -> tuple[int, list[str], bool]:
    """(file id, refusals, new) — the file to upload for ``day``: the unanswered one, or a
    new snapshot in the next SEQ when there is none or the last was PARTIAL/REJECTED."""
    rt = context.current()
    for _attempt in range(3):
        with transaction(rt.sessions) as session:
            rows = session.scalars(
                select(ExchangeFile)
                .where(
                    ExchangeFile.partner == PARTNER,
                    ExchangeFile.direction == "out",
                    ExchangeFile.file_type == FILE_TYPE,
                    ExchangeFile.business_date == day,
                )
                .order_by(ExchangeFile.seq)
            ).all()
            last = rows[-1] if rows else None
            if last is not None and last.status in ("prepared", "sent", "accepted"):
                return last.id, [], False
            seq = (last.seq or 0) + 1 if last is not None else 1
            created = utcnow().astimezone(BEIJING)
            numbers: list[str] = []  # record index -> volunteer number (records are streamed)
            plain, result = writer.write_bytes(
                FILE_TYPE, _noting(roster_records(session, day), numbers), sender=OUR_ID, receiver=PARTNER, business_date=day, seq=seq,
                created_time=created,
            )  # fmt: skip
            refused = [f"{numbers[r.index]}: {r.field}: {r.reason}" for r in result.refused]
            name = writer.file_name(FILE_TYPE, OUR_ID, day, seq) + ".p7m"
            sealed = keystore().seal(plain, to=PARTNER)
            spool = rt.settings.spool_dir / "out" / PARTNER
            spool.mkdir(parents=True, exist_ok=True)
            (spool / name).write_bytes(sealed)
            raw = archive.store_raw(rt.settings, PARTNER, day, name, spool / name)
            plain_copy = archive.store_plain(rt.settings, PARTNER, day, name[:-4], plain)
            row = ExchangeFile(
                partner=PARTNER, direction="out", file_type=FILE_TYPE, name=name, sender=OUR_ID,
                receiver=PARTNER, business_date=day, seq=seq, size=raw.size, sha256=raw.sha256,
                status="prepared", identity=f"out|{PARTNER}|{FILE_TYPE}|{day:%Y%m%d}|{seq:03d}",
                record_count=result.count, raw_path=raw.path, plain_path=plain_copy.path,
                detail=("refused by our writer: " + "; ".join(refused))[:2000] if refused else None,
            )  # fmt: skip
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                session.rollback()  # another worker took this SEQ: look again
                continue
            for r in refused:
                log.warning("%s: record refused: %s", name, r)
            return row.id, refused, True
    raise RuntimeError(f"INSROSTER {day}: could not claim a SEQ")


def _refusals(detail: str | None) -> str:
    """The "refused by our writer: ..." part of a roster row's detail, kept across updates."""
    mark = "refused by our writer"
    if not detail or mark not in detail:
        return ""
    return detail[detail.index(mark) :].split("; not answered", 1)[0]


def _record_answer(session: Session, row: ExchangeFile, answer: RosterAnswer) -> None:
    row.status = {"ACCEPTED": "accepted", "PARTIAL": "partial", "REJECTED": "rejected"}.get(
        answer.result, "rejected"
    )
    row.ack_status, row.ack_code, row.ack_text = answer.result, answer.error_code, answer.error_text
    row.sent_at = row.sent_at or utcnow()
    refused = _refusals(row.detail)
    if answer.roster_id:  # "rosterId R...; refused by our writer: ..." (refusals kept)
        row.detail = "; ".join(x for x in (f"rosterId {answer.roster_id}", refused) if x)[:2000]
    row.record_errors.clear()
    for e in parse_error_text(answer.error_text):
        row.record_errors.append(RecordErrorRow(line=e.line, field=e.field[:40], reason=e.reason[:200]))
    if row.status != "accepted":
        log.error("%s answered %s %s: %s", row.name, answer.result, answer.error_code, answer.error_text)
        # The snapshot (or some of its records) did not reach the insurer: an operator must
        # see it now, not only in a log line (the record errors are listed on the file).
        raise_alert(
            session, ROSTER_ANSWER_ALERT, PARTNER,
            f"{row.name}: {answer.result} {answer.error_code or ''}".rstrip()
            + f"; {len(row.record_errors)} record error(s) (svcard exchange files --partner BOCINS)",
            subject=row.name,
        )  # fmt: skip


def send_roster(business_date: date | None = None, *, client: InsurerPartner | None = None) -> RosterReport:
    """Build (if due), seal, upload and record the day's INSROSTER; see the module doc."""
    day = business_date or beijing_today()
    rt = context.current()
    _check_not_stopped()
    file_id, refused, _ = _prepare_roster(day)
    with transaction(rt.sessions) as session:
        row = session.get(ExchangeFile, file_id)
        report = RosterReport(row.id, row.name, row.seq or 0, row.record_count or 0, row.status,
                              row.ack_code, row.ack_text, refused=refused)  # fmt: skip
        if row.status != "prepared":
            head = (row.detail or "").split(";", 1)[0]
            report.roster_id = head.removeprefix("rosterId ") if head.startswith("rosterId ") else None
            return report
        content = archive.raw_path(rt.settings, row.raw_path).read_bytes()
    own = client is None
    client = client or default_client()
    try:
        answer = client.upload_roster(report.name, content)
    except SoapError as exc:
        report.error = f"{exc.code}: {exc}"
        with transaction(rt.sessions) as session:
            row = session.get(ExchangeFile, file_id)
            why = f"not answered, sent again under the same name next run: {report.error}"
            row.detail = "; ".join(x for x in (_refusals(row.detail), why) if x)[:2000]
            if not isinstance(exc, RetryableError | SecurityFault):
                raise_alert(
                    session, ROSTER_ALERT, PARTNER, f"{report.name}: {report.error}"[:500], report.name
                )
        if isinstance(exc, SecurityFault):
            _security_alert(exc)
        log.error("%s: %s", report.name, report.error)
        return report
    finally:
        if own:
            client.close()  # type: ignore[attr-defined]
    with transaction(rt.sessions) as session:
        row = session.get(ExchangeFile, file_id)
        _record_answer(session, row, answer)
        report.status, report.ack_code, report.ack_text = row.status, row.ack_code, row.ack_text
        report.roster_id, report.uploaded = answer.roster_id, True
    log.info("%s: %s", report.name, answer.result)
    return report


# --------------------------------------------------------------------- claims


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
# Keyed by the runtime too, so that two runtimes in one process never share it.
_cache: dict[tuple[str, str, str], float] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _key(rt, kind: str, value: str) -> tuple[str, str, str]:
    return (f"{id(rt)}:{rt.settings.database_url}", kind, value)


def _fresh(key: tuple[str, str, str], max_age: float) -> bool:
    with _cache_lock:
        at = _cache.get(key)
    return at is not None and time.monotonic() - at < max_age


def _remember(key: tuple[str, str, str]) -> None:
    with _cache_lock:
        _cache[key] = time.monotonic()


def lookup_claims(
    *,
    volunteer_no: str | None = None,
    claim_no: str | None = None,
    client: InsurerPartner | None = None,
    max_age: float = CACHE_SECONDS,
) -> list[ClaimView]:
    """A volunteer's claims, or one claim, with SVA's verdict. Asks the insurer unless the
    same question was asked less than ``max_age`` seconds ago in this process."""
    if (volunteer_no is None) == (claim_no is None):
        raise ValueError("give exactly one of volunteer_no, claim_no")
    rt = context.current()
    own = client is None
    try:
        if claim_no is not None and not _fresh(_key(rt, "claim", claim_no), max_age):
            _check_not_stopped()
            client = client or default_client()
            found = _query(client, claim_no=claim_no)
            with transaction(rt.sessions) as session:
                store_claims(session, found)
            _remember(_key(rt, "claim", claim_no))
            for c in found:  # the limit rule needs every claim of the volunteer
                _refresh_volunteer(rt, client, c.volunteer_no, max_age)
        if volunteer_no is not None:
            if not _fresh(_key(rt, "volunteer", volunteer_no), max_age):
                _check_not_stopped()
                client = client or default_client()
            _refresh_volunteer(rt, client, volunteer_no, max_age)
    finally:
        if own and client is not None:
            client.close()  # type: ignore[attr-defined]
    with transaction(rt.sessions) as session:
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


def _query(client: InsurerPartner, **filters: Any) -> list[Claim]:
    try:
        return client.query_claims(**filters)
    except SecurityFault as exc:
        _security_alert(exc)
        raise


def _refresh_volunteer(rt, client: InsurerPartner | None, volunteer_no: str, max_age: float) -> None:
    key = _key(rt, "volunteer", volunteer_no)
    if _fresh(key, max_age) or client is None:
        return
    found = _query(client, volunteer_no=volunteer_no)
    with transaction(rt.sessions) as session:
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


def sweep_claims(*, client: InsurerPartner | None = None, today: date | None = None) -> SweepReport:
    """The daily sweep: claims whose status changed since the last successful sweep's date
    (``fromDate``, inclusive), stored and checked with every claim of their volunteers."""
    rt = context.current()
    day = today or beijing_today()
    _check_not_stopped()
    with transaction(rt.sessions) as session:
        last = session.scalar(
            select(ClaimSweep).where(ClaimSweep.status == "ok").order_by(ClaimSweep.id.desc()).limit(1)
        )
        from_date = last.run_date if last is not None else None
        sweep = ClaimSweep(run_date=day, from_date=from_date, status="running", claims_seen=0, flagged=0)
        session.add(sweep)
        session.flush()
        sweep_id = sweep.id
    report = SweepReport(day, from_date)
    own = client is None
    try:
        client = client or default_client()
        claims = _query(client, from_date=from_date)
    except SoapError as exc:
        report.error = f"{exc.code}: {exc}"
        with transaction(rt.sessions) as session:
            sweep = session.get(ClaimSweep, sweep_id)
            sweep.status, sweep.error, sweep.finished_at = "failed", report.error[:300], utcnow()
        return report
    finally:
        if own and client is not None:
            client.close()  # type: ignore[attr-defined]
    with transaction(rt.sessions) as session:
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
