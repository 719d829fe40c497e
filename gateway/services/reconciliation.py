"""Reconciliation of a month (fund.md "Reconciliation"), from the per-day totals.

*computed* and *bank* come from ``donation_days`` (maintained as SWIPE files are
applied: a month is a sum over at most 31 rows per beneficiary, never a rescan of the
swipes); *booked* from the fund's DONATION lines. Each beneficiary gets exactly one class
(``gateway.domain.donations.classify``) and the ``BANK_DIFFERS`` flag; the per-class
totals add up to the period's totals because every beneficiary is counted in one class.
"""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain import donations as rule
from gateway.domain.errors import CodedError, Invalid
from gateway.models.donations import DonationDay, DonationPeriod, DonationReceipt, Swipe, SwipeDuplicate
from gateway.models.exchange import ExchangeFile
from gateway.partners import registry
from gateway.timeutil import utcnow


class BadPeriod(CodedError, Invalid, ValueError):
    """A period that is not ``YYYYMM``."""

    CODE, FIELD = "BAD_PERIOD", "period"


def month_bounds(period: str) -> tuple[date, date]:
    """First and last Beijing day of ``YYYYMM``."""
    if len(period) != 6 or not period.isdigit() or not 1 <= int(period[4:]) <= 12:
        raise BadPeriod(f"period {period!r}: not YYYYMM")
    y, m = int(period[:4]), int(period[4:])
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def swipe_partner() -> str:
    """The partner whose daily SWIPE files make the month (the registry's SWIPE sender)."""
    (partner,) = [p.id for p in registry.by_record_type("SWIPE")]
    return partner


def missing_days(session: Session, period: str, partner: str | None = None) -> list[date]:
    """Days of the month without an applied SWIPE file (fund.md: DONATIONEXP waits for them)."""
    first, last = month_bounds(period)
    applied = set(
        session.scalars(
            select(ExchangeFile.business_date).where(
                ExchangeFile.partner == (partner or swipe_partner()),
                ExchangeFile.direction == "in",
                ExchangeFile.file_type == "SWIPE",
                ExchangeFile.status.in_(("processed", "partial")),
                ExchangeFile.business_date.between(first, last),
            )
        )
    )
    days = (date(first.year, first.month, d) for d in range(1, last.day + 1))
    return [d for d in days if d not in applied]


def first_swipe_day(session: Session, partner: str | None = None) -> date | None:
    """The business date of the first SWIPE file applied: when the programme's swipes began
    reaching the gateway (its go-live), or None before."""
    return session.scalar(
        select(func.min(ExchangeFile.business_date)).where(
            ExchangeFile.partner == (partner or swipe_partner()),
            ExchangeFile.direction == "in",
            ExchangeFile.file_type == "SWIPE",
            ExchangeFile.status.in_(("processed", "partial")),
        )
    )


@dataclass
class Figures:
    """One beneficiary's month from the per-day totals."""

    volunteer_no: str
    purchases: int = 0
    reversals: int = 0
    computed_fen: int = 0
    bank_fen: int = 0
    flagged: int = 0

    @property
    def active(self) -> bool:
        """Donation activity (a DONATIONEXP line): a purchase or a valid reversal."""
        return bool(self.purchases or self.reversals)


def month_figures(session: Session, period: str) -> dict[str, Figures]:
    """Per beneficiary: purchases, valid reversals, computed and bank fen of the month."""
    first, last = month_bounds(period)
    rows = session.execute(
        select(
            DonationDay.volunteer_no,
            func.sum(DonationDay.purchases),
            func.sum(DonationDay.reversals),
            func.sum(DonationDay.computed_fen),
            func.sum(DonationDay.bank_fen),
            func.sum(DonationDay.flagged),
        )
        .where(DonationDay.day.between(first, last))
        .group_by(DonationDay.volunteer_no)
    )
    return {r[0]: Figures(r[0], *(int(x or 0) for x in r[1:])) for r in rows}


def expected_lines(session: Session, period: str) -> list[dict]:
    """DONATIONEXP's lines for the month: one per beneficiary with donation activity,
    the campaign on its own line."""
    return [
        {
            "volunteer_no": f.volunteer_no,
            "period": period,
            "purchase_count": f.purchases,
            "reversal_count": f.reversals,
            "expected_fen": rule.expected_fen(f.purchases, f.reversals),
        }
        for f in sorted(month_figures(session, period).values(), key=lambda f: f.volunteer_no)
        if f.active
    ]


def booked(session: Session, period: str) -> dict[str, int]:
    """The fund's DONATION lines of the period, summed per beneficiary (corrections add up)."""
    rows = session.execute(
        select(DonationReceipt.volunteer_no, func.sum(DonationReceipt.amount_fen))
        .where(DonationReceipt.period == period)
        .group_by(DonationReceipt.volunteer_no)
    )
    return {r[0]: int(r[1]) for r in rows}


@dataclass
class Line:
    volunteer_no: str
    klass: str
    computed_fen: int
    bank_fen: int
    booked_fen: int
    bank_differs: bool
    purchases: int = 0
    reversals: int = 0
    has_computed: bool = False
    has_booked: bool = False


@dataclass
class ClassTotal:
    klass: str
    count: int = 0
    computed_fen: int = 0
    booked_fen: int = 0


@dataclass
class FlaggedSwipe:
    txn_id: str
    day: date
    beneficiary: str
    volunteer_no: str
    txn_type: str
    fen: int
    bank_fen: int
    flags: list[str]


@dataclass
class Report:
    period: str
    lines: list[Line]
    classes: dict[str, ClassTotal]
    computed_fen: int
    booked_fen: int
    bank_fen: int
    missing_days: list[date]
    flagged: list[FlaggedSwipe] = field(default_factory=list)
    flagged_total: int = 0

    @property
    def outside_matched(self) -> list[Line]:
        return [ln for ln in self.lines if ln.klass != rule.MATCHED]

    def summary(self) -> dict:
        return {
            "period": self.period,
            "computed_fen": self.computed_fen,
            "booked_fen": self.booked_fen,
            "bank_fen": self.bank_fen,
            "classes": {k: asdict(v) for k, v in self.classes.items()},
            "bank_differs": sum(ln.bank_differs for ln in self.lines),
            "missing_days": [d.isoformat() for d in self.missing_days],
        }


def report(session: Session, period: str, *, flagged_limit: int = 1000) -> Report:
    """The month's reconciliation (fund.md): every beneficiary of the period in one class."""
    figures = month_figures(session, period)
    books = booked(session, period)
    lines: list[Line] = []
    for no in sorted(set(figures) | set(books)):
        f = figures.get(no, Figures(no))
        computed = f.computed_fen if f.active else None
        book = books.get(no)
        lines.append(
            Line(
                volunteer_no=no,
                klass=rule.classify(computed, book),
                computed_fen=f.computed_fen,
                bank_fen=f.bank_fen,
                booked_fen=book or 0,
                bank_differs=f.bank_fen != f.computed_fen,
                purchases=f.purchases,
                reversals=f.reversals,
                has_computed=computed is not None,
                has_booked=book is not None,
            )
        )
    classes = {k: ClassTotal(k) for k in rule.CLASSES}
    for ln in lines:
        c = classes[ln.klass]
        c.count += 1
        c.computed_fen += ln.computed_fen
        c.booked_fen += ln.booked_fen
    out = Report(
        period=period,
        lines=lines,
        classes=classes,
        computed_fen=sum(ln.computed_fen for ln in lines),
        booked_fen=sum(ln.booked_fen for ln in lines),
        bank_fen=sum(ln.bank_fen for ln in lines),
        missing_days=missing_days(session, period),
    )
    wanted = [ln.volunteer_no for ln in lines if ln.klass != rule.MATCHED or ln.bank_differs]
    out.flagged, out.flagged_total = flagged_swipes(session, period, wanted, limit=flagged_limit)
    return out


def flagged_swipes(
    session: Session, period: str, beneficiaries: list[str], *, limit: int = 1000
) -> tuple[list[FlaggedSwipe], int]:
    """The flagged SWIPE records (duplicates included) of these beneficiaries in the
    month: up to ``limit`` of them, and how many there are."""
    if not beneficiaries:
        return [], 0
    first, last = month_bounds(period)
    found: list[FlaggedSwipe] = []
    total = 0
    for chunk in _chunks(beneficiaries, 500):
        for model in (Swipe, SwipeDuplicate):
            where = (model.flags != 0, model.beneficiary.in_(chunk), model.day.between(first, last))
            total += session.scalar(select(func.count()).select_from(model).where(*where)) or 0
            if len(found) >= limit:
                continue
            for s in session.scalars(select(model).where(*where).limit(limit - len(found))):
                found.append(
                    FlaggedSwipe(
                        txn_id=s.txn_id,
                        day=s.day,
                        beneficiary=s.beneficiary,
                        volunteer_no=s.volunteer_no,
                        txn_type=s.txn_type,
                        fen=getattr(s, "fen", 0),
                        bank_fen=s.bank_fen,
                        flags=rule.flag_names(s.flags),
                    )
                )
    found.sort(key=lambda f: (f.beneficiary, f.day, f.txn_id))
    return found, total


def _chunks(items: list[str], n: int):
    for i in range(0, len(items), n):
        yield items[i : i + n]


def refresh(session: Session, period: str) -> Report:
    """Recompute the month's report and keep its summary on the period (after a DONATION
    file, late corrections included)."""
    rep = report(session, period, flagged_limit=0)
    row = session.get(DonationPeriod, period) or DonationPeriod(period=period)
    row.report, row.reported_at = json.dumps(rep.summary()), utcnow()
    session.add(row)
    return rep


@dataclass
class Month:
    period: str
    purchases: int
    reversals: int
    computed_fen: int
    bank_fen: int
    booked_fen: int


def volunteer_months(session: Session, volunteer_no: str) -> list[Month]:
    """A beneficiary's donations month by month (computed, bank, booked)."""
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for d in session.scalars(select(DonationDay).where(DonationDay.volunteer_no == volunteer_no)):
        m = per[rule.period_of(d.day)]
        m[0] += d.purchases
        m[1] += d.reversals
        m[2] += d.computed_fen
        m[3] += d.bank_fen
    for period, amount in session.execute(
        select(DonationReceipt.period, func.sum(DonationReceipt.amount_fen))
        .where(DonationReceipt.volunteer_no == volunteer_no)
        .group_by(DonationReceipt.period)
    ):
        per[period][4] += int(amount)
    return [Month(p, *per[p]) for p in sorted(per)]


def donated_by_month(session: Session, year: int) -> dict[str, int]:
    """SVA's computed fen per month of ``year`` ("十分关爱"), every month listed: summed by
    the database per day (at most 366 rows), then per month here."""
    months = {f"{year}{m:02d}": 0 for m in range(1, 13)}
    rows = session.execute(
        select(DonationDay.day, func.sum(DonationDay.computed_fen))
        .where(DonationDay.day.between(date(year, 1, 1), date(year, 12, 31)))
        .group_by(DonationDay.day)
    )
    for day, fen in rows:
        months[f"{day:%Y%m}"] += int(fen or 0)
    return months


CSV_COLUMNS = ("volunteer_no", "class", "computed_fen", "bank_fen", "booked_fen", "bank_differs")


def csv_rows(r: Report) -> Iterator[tuple]:
    """The report as CSV rows, header first: one row per beneficiary (the README's columns)."""
    yield CSV_COLUMNS
    for ln in r.lines:
        yield (
            ln.volunteer_no,
            ln.klass,
            ln.computed_fen,
            ln.bank_fen,
            ln.booked_fen,
            "Y" if ln.bank_differs else "N",
        )
