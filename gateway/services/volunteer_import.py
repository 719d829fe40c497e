"""Bulk load of volunteers from the existing platform (``svcard volunteers import``).

UTF-8 CSV with a header row and the columns of ``COLUMNS``. Each bad row is reported as
``line:<n>:<column>:<rule>`` (the header is line 1) and skipped; good rows are imported in
the same transaction. A row matches an existing volunteer by ``volunteer_no`` (or, for an
applicant, by the keyed hash of its ID), so importing the same file again changes
nothing. An official volunteer whose card data is complete, and who has no card yet, gets
a NEW card order (PENDING) that the bank adapter sends later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain import eligibility as elig
from gateway.domain.errors import Problem
from gateway.models import Card, ServiceSession, TrainingRecord, Volunteer
from gateway.models.volunteers import SessionKind, VolunteerStatus
from gateway.services import cards as card_service
from gateway.services import volunteers as vs
from gateway.services.csv_rows import RowError, read_rows
from gateway.timeutil import beijing_today, utcnow
from schemas import rules

COLUMNS = (
    "volunteer_no", "name", "id_type", "id_number", "gender", "birth_date", "mobile", "address",
    "emergency_name", "emergency_mobile", "carrier", "branch_code", "photo", "opt_transit", "opt_health",
    "training_hours", "service_hours", "official_since",
)  # fmt: skip
HOURS_RE = re.compile(r"(0|[1-9][0-9]{0,4})(\.[0-9]{1,2})?")
PII_FIELDS = ("name", "id_number", "mobile", "address", "emergency_name", "emergency_mobile", "photo")
PLAIN_FIELDS = ("id_type", "gender", "birth_date", "carrier", "branch_code", "opt_transit", "opt_health")
IMPORT_COURSE = "imported training hours"


@dataclass
class ImportReport:
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    orders: int = 0
    errors: list[RowError] = field(default_factory=list)
    not_ordered: list[tuple[int, str, list[Problem]]] = field(default_factory=list)

    @property
    def skipped_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})


@dataclass
class Row:
    line: int
    volunteer_no: str | None
    official_since: date | None
    values: dict  # model field -> value
    training_minutes: int
    service_minutes: int


def _hours(value: str) -> int | None:
    v = value.strip() or "0"
    if not HOURS_RE.fullmatch(v):
        return None
    try:
        return int((Decimal(v) * 60).to_integral_value())
    except InvalidOperation:
        return None


def parse_row(
    raw: dict[str, str], line: int, base: Path, today: date, branches: set[str]
) -> tuple[Row | None, list[RowError]]:
    """Check one CSV row; the row (or None) and every problem by column."""
    errs: list[RowError] = []

    def bad(column: str, rule: str) -> None:
        errs.append(RowError(line, column, rule))

    g = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    no = g["volunteer_no"] or None
    if no is not None and not re.fullmatch(r"[0-9]{10}", no):
        bad("volunteer_no", "must be 10 digits or blank")
    birth = rules.parse_yyyymmdd(g["birth_date"])
    if birth is None or birth > today:
        bad("birth_date", "not a YYYYMMDD date on or before today")
    since = rules.parse_yyyymmdd(g["official_since"]) if g["official_since"] else None
    if g["official_since"] and (since is None or since > today):
        bad("official_since", "not a YYYYMMDD date on or before today")
    if (no is None) != (not g["official_since"]):
        bad("official_since", "given exactly when volunteer_no is given")
    candidate = elig.Candidate(
        name=g["name"], id_type=g["id_type"], id_number=g["id_number"], gender=g["gender"],
        birth_date=birth or today, mobile=g["mobile"], address=g["address"],
        emergency_name=g["emergency_name"], emergency_mobile=g["emergency_mobile"],
    )  # fmt: skip
    for p in elig.identity_problems(candidate, today):
        if birth is None and p.rule == "RIC_CONSISTENCY" and p.field == "birth_date":
            continue  # already reported
        bad(p.field, f"{p.rule} {p.message}")
    carrier = g["carrier"] or None
    if carrier is not None and birth is not None and (p := elig.carrier_problem(carrier, birth, today)):
        bad("carrier", f"{p.rule} {p.message}")
    branch = g["branch_code"] or None
    if branch is not None and (p := elig.branch_problem(branch, branches)):
        bad("branch_code", f"{p.rule} {p.message}")
    photo = None
    if g["photo"]:
        path = base / g["photo"]
        if Path(g["photo"]).is_absolute():
            bad("photo", "must be a path relative to the CSV file")
        elif ".." in Path(g["photo"]).parts:
            bad("photo", "must be a path inside the CSV's folder")
        elif not path.is_file():
            bad("photo", "file not found")
        else:
            photo = path.read_bytes()
            if reason := elig.photo_problem(photo):
                bad("photo", f"PHOTO {reason}")
    opts = {}
    for col in ("opt_transit", "opt_health"):
        if g[col] not in ("Y", "N"):
            bad(col, "must be Y or N")
        opts[col] = g[col] == "Y"
    minutes = {}
    for col in ("training_hours", "service_hours"):
        m = _hours(g[col])
        if m is None:
            bad(col, "not a number of hours (up to 2 decimals)")
        minutes[col] = m or 0
    if errs:
        return None, errs
    values = dict(
        name=g["name"], id_type=g["id_type"], id_number=g["id_number"], gender=g["gender"], birth_date=birth,
        mobile=g["mobile"], address=g["address"], emergency_name=g["emergency_name"],
        emergency_mobile=g["emergency_mobile"], carrier=carrier, branch_code=branch, photo=photo, **opts,
    )  # fmt: skip
    return Row(line, no, since, values, minutes["training_hours"], minutes["service_hours"]), []


CHUNK = 500


def import_csv(
    session: Session, path: Path, *, actor: str = "import", now: datetime | None = None
) -> ImportReport:
    """Import the file in the caller's transaction; the report lists what happened.

    Rows are checked one by one, then applied in chunks of ``CHUNK``: one query finds the
    chunk's existing volunteers, one flush writes its new ones."""
    now = now or utcnow()
    today = beijing_today(now)
    report = ImportReport(file=path.name)
    rows = read_rows(path.read_bytes(), path.name, COLUMNS, report.errors)
    ctx = _Context(session, path.name, actor, now, today, vs.open_branches(session), report)
    chunk: list[tuple[Row, str]] = []
    for line, raw in rows:
        report.rows += 1
        if raw is None:
            continue
        row, errs = parse_row(raw, line, path.parent, today, ctx.branches)
        if row is None:
            report.errors.extend(errs)
            continue
        chunk.append((row, vs.id_hash(row.values["id_type"], row.values["id_number"])))
        if len(chunk) >= CHUNK:
            ctx.apply(chunk)
            chunk = []
    if chunk:
        ctx.apply(chunk)
    report.errors.sort(key=lambda e: e.line)
    session.flush()
    return report


@dataclass
class _Context:
    session: Session
    file_name: str
    actor: str
    now: datetime
    today: date
    branches: set[str]
    report: ImportReport
    seen_no: dict[str, int] = field(default_factory=dict)
    seen_id: dict[str, int] = field(default_factory=dict)

    def apply(self, chunk: list[tuple[Row, str]]) -> None:
        s, report = self.session, self.report
        nos = [r.volunteer_no for r, _ in chunk if r.volunteer_no]
        hashes = [h for _, h in chunk]
        by_no = {
            v.volunteer_no: v for v in s.scalars(select(Volunteer).where(Volunteer.volunteer_no.in_(nos)))
        }
        by_hash: dict[str, list[Volunteer]] = {}
        for v in s.scalars(
            select(Volunteer)
            .where(Volunteer.id_hash.in_(hashes), Volunteer.status != VolunteerStatus.DEREGISTERED)
            .order_by(Volunteer.id)
        ):
            by_hash.setdefault(v.id_hash, []).append(v)
        known_ids = {v.id for v in by_no.values()} | {v.id for vs_ in by_hash.values() for v in vs_}
        training = {
            t.volunteer_id: t
            for t in s.scalars(
                select(TrainingRecord).where(
                    TrainingRecord.volunteer_id.in_(known_ids), TrainingRecord.course == IMPORT_COURSE
                )
            )
        }
        sessions = {
            x.volunteer_id: x
            for x in s.scalars(
                select(ServiceSession).where(
                    ServiceSession.volunteer_id.in_(known_ids), ServiceSession.kind == SessionKind.IMPORTED
                )
            )
        }
        with_card = set(
            s.scalars(select(Card.volunteer_id).where(Card.volunteer_id.in_(known_ids)).distinct())
        )

        applied: list[tuple[Row, Volunteer, bool, bool]] = []
        for row, h in chunk:
            if row.volunteer_no and row.volunteer_no in self.seen_no:
                dup = self.seen_no[row.volunteer_no]
                report.errors.append(RowError(row.line, "volunteer_no", f"duplicate of line {dup}"))
                continue
            if h in self.seen_id:
                report.errors.append(RowError(row.line, "id_number", f"duplicate of line {self.seen_id[h]}"))
                continue
            v = by_no.get(row.volunteer_no) if row.volunteer_no else None
            if v is not None and v.id_hash != h:
                report.errors.append(RowError(row.line, "volunteer_no", "already belongs to another ID"))
                continue
            if v is None:
                clash = False
                for other in by_hash.get(h, []):
                    if other.status == VolunteerStatus.APPLICANT:
                        v = other  # the same applicant, or approved on the old platform since
                    elif other.volunteer_no != row.volunteer_no:
                        clash = True
                if clash:
                    report.errors.append(
                        RowError(row.line, "id_number", "already registered under another volunteer_no")
                    )
                    continue
            created = v is None
            changed = created
            if created:
                v = Volunteer(
                    provisional_no=vs.new_provisional_no(), status=VolunteerStatus.APPLICANT, id_hash=h,
                    applied_at=self.now, source=f"import:{self.file_name}:{row.line}"[:120], **row.values,
                )  # fmt: skip
                s.add(v)
                if row.volunteer_no:
                    by_no[row.volunteer_no] = v
                by_hash.setdefault(h, []).append(v)
            else:
                for key, value in row.values.items():
                    if getattr(v, key) != value:
                        setattr(v, key, value)
                        changed = True
            if row.volunteer_no and v.volunteer_no is None:
                v.volunteer_no, v.status = row.volunteer_no, VolunteerStatus.OFFICIAL
                v.official_since, changed = row.official_since, True
            elif row.volunteer_no and v.official_since != row.official_since:
                v.official_since, changed = row.official_since, True
            if row.volunteer_no:
                self.seen_no[row.volunteer_no] = row.line
            self.seen_id[h] = row.line
            applied.append((row, v, created, changed))
        s.flush()  # new volunteers get their ids in one batch

        due: list[Volunteer] = []
        for row, v, created, changed in applied:
            changed |= self._set_minutes(v, row, training.get(v.id), sessions.get(v.id))
            if created:
                report.created += 1
            elif changed:
                report.updated += 1
            else:
                report.unchanged += 1
            if v.status == VolunteerStatus.OFFICIAL and v.id not in with_card:
                problems = elig.card_order_problems(vs.candidate_of(v), self.today, self.branches)
                if problems:
                    report.not_ordered.append((row.line, v.volunteer_no or "", problems))
                else:
                    due.append(v)
                    with_card.add(v.id)
        card_service.place_first_orders(
            s, due, source=card_service.EventSource(actor=self.actor), now=self.now
        )
        report.orders += len(due)
        s.flush()

    def _set_minutes(
        self, v: Volunteer, row: Row, tr: TrainingRecord | None, ss: ServiceSession | None
    ) -> bool:
        """The old platform's totals, as one imported training record and one imported session."""
        changed = False
        src = f"import:{self.file_name}:{row.line}"[:120]
        if tr is None and row.training_minutes:
            self.session.add(
                TrainingRecord(
                    volunteer_id=v.id, course=IMPORT_COURSE, minutes=row.training_minutes, source=src
                )
            )
            changed = True
        elif tr is not None and tr.minutes != row.training_minutes:
            tr.minutes, changed = row.training_minutes, True
        if ss is None and row.service_minutes:
            self.session.add(
                ServiceSession(volunteer_id=v.id, kind=SessionKind.IMPORTED, minutes=row.service_minutes,
                               activity="imported service hours", source=src)
            )  # fmt: skip
            changed = True
        elif ss is not None and ss.minutes != row.service_minutes:
            ss.minutes, changed = row.service_minutes, True
        return changed
