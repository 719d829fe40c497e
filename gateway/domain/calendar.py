"""Working days, service-level due dates and pickup deadlines (partners/README.md "Working
days"; bank.md "Service levels", "Pickup deadline").

A year is either *loaded* (its exceptional days are known: holidays on weekdays and
make-up working days on weekends) or not; for a year not loaded only Saturdays and
Sundays are non-working, and any due date counted through it is provisional.
"""

from __future__ import annotations

import calendar as _cal
import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from gateway.domain.errors import Invalid

PRODUCED_DUE_WORKING_DAYS = 15
NOTIFIED_DUE_WORKING_DAYS = 20
PICKUP_MONTHS = 6
AT_RISK_DAYS = 30
DUE_SOON_WORKING_DAYS = 2


@dataclass(frozen=True)
class Due:
    day: date
    provisional: bool


@dataclass
class WorkingCalendar:
    """``years`` maps each loaded year to its exceptional days: date -> working?"""

    years: Mapping[int, Mapping[date, bool]] = field(default_factory=dict)

    def is_loaded(self, year: int) -> bool:
        return year in self.years

    def is_working(self, day: date) -> bool:
        override = self.years.get(day.year, {}).get(day)
        if override is not None:
            return override
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> Due:
        """The n-th working day after ``start`` (``start`` itself not counted); provisional
        when any day counted lies in a year not loaded."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day, count, provisional = start, 0, False
        while count < n:
            day += timedelta(days=1)
            provisional = provisional or not self.is_loaded(day.year)
            if self.is_working(day):
                count += 1
        return Due(day, provisional)

    def working_days_in(self, year: int) -> int:
        d, n = date(year, 1, 1), 0
        while d.year == year:
            n += self.is_working(d)
            d += timedelta(days=1)
        return n


def service_level_dues(cal: WorkingCalendar, day0: date) -> tuple[Due, Due]:
    """(PRODUCED due, NOTIFIED due): the 15th and the 20th working day after day 0."""
    return cal.add_working_days(day0, PRODUCED_DUE_WORKING_DAYS), cal.add_working_days(
        day0, NOTIFIED_DUE_WORKING_DAYS
    )


def add_months_clamped(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the end of the month (31 Aug + 6 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


def pickup_deadline(notified_on: date) -> date:
    """NOTIFIED event_date (or the REISSUED event_time date) plus six calendar months."""
    return add_months_clamped(notified_on, PICKUP_MONTHS)


def at_risk_from(deadline: date) -> date:
    return deadline - timedelta(days=AT_RISK_DAYS)


def is_at_risk(deadline: date, today: date) -> bool:
    """From 30 calendar days before the deadline up to and including it."""
    return at_risk_from(deadline) <= today <= deadline


# ----------------------------------------------------------------- operator files

HOLIDAY, WORKDAY = "holiday", "workday"


@dataclass(frozen=True)
class CalendarRow:
    day: date
    working: bool
    name: str


def _parse_day(value: str) -> date | None:
    v = value.strip().replace("-", "")
    if len(v) != 8 or not v.isdigit():
        return None
    try:
        return date(int(v[:4]), int(v[4:6]), int(v[6:]))
    except ValueError:
        return None


def parse_calendar_csv(text: str, year: int, file_name: str = "calendar") -> list[CalendarRow]:
    """Read an operator's calendar file for ``year``. Format (UTF-8 CSV, header row)::

        date,kind,name
        2027-02-06,workday,Spring Festival make-up working day
        2027-02-08,holiday,Spring Festival

    ``date`` is YYYY-MM-DD or YYYYMMDD within ``year``; ``kind`` is ``holiday`` (a day off,
    usually a weekday) or ``workday`` (a make-up working day, usually a weekend day);
    ``name`` is optional. The file is the year's complete list. Every problem is reported
    as ``file:line:column:reason`` and nothing is loaded."""
    problems: list[str] = []
    rows: list[CalendarRow] = []
    seen: set[date] = set()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["date", "kind"]:
        raise Invalid("CALENDAR_FILE", f"{file_name}:1:header:must start with date,kind[,name]")
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) < 2 or len(record) > 3:
            problems.append(f"{file_name}:{line}:record:expected 2 or 3 columns")
            continue
        day = _parse_day(record[0])
        kind = record[1].strip().lower()
        if day is None:
            problems.append(f"{file_name}:{line}:date:not a date")
        elif day.year != year:
            problems.append(f"{file_name}:{line}:date:not in {year}")
        elif day in seen:
            problems.append(f"{file_name}:{line}:date:listed twice")
        if kind not in (HOLIDAY, WORKDAY):
            problems.append(f"{file_name}:{line}:kind:must be holiday or workday")
        name = record[2].strip() if len(record) == 3 else ""
        if len(name) > 60:
            problems.append(f"{file_name}:{line}:name:longer than 60 characters")
        if day is not None and day.year == year and day not in seen and kind in (HOLIDAY, WORKDAY):
            seen.add(day)
            rows.append(CalendarRow(day, kind == WORKDAY, name[:60]))
    if problems:
        raise Invalid("CALENDAR_FILE", "; ".join(problems))
    return sorted(rows, key=lambda r: r.day)


def format_calendar_csv(rows: Iterable[CalendarRow]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["date", "kind", "name"])
    for r in rows:
        w.writerow([r.day.isoformat(), WORKDAY if r.working else HOLIDAY, r.name])
    return out.getvalue()


# ----------------------------------------------------------------- holidays package


def holidays_schedule(year: int) -> list[CalendarRow] | None:
    """The State Council schedule of ``year`` as the ``holidays`` package knows it, or None
    when the package has no published schedule for it.

    ``holidays.China`` lists days off (weekday ones matter) and, in ``weekend_workdays``,
    the make-up working days (调休) — but only for years whose schedule was published when
    the package was released. For later years it extrapolates the festivals without
    make-up days; such a guess is not the published schedule, so it is not used: the year
    stays "not loaded" (weekends only, provisional) until an operator loads it."""
    import holidays  # holidays (with its calendars and dateutil) loads only to seed a year

    cn = holidays.China(years=year)
    workdays = sorted(d for d in cn.weekend_workdays if d.year == year)
    if not workdays:
        return None
    rows = [CalendarRow(d, True, "make-up working day") for d in workdays]
    for d, name in sorted(cn.items()):
        if d.year == year and d.weekday() < 5:
            rows.append(CalendarRow(d, False, str(name)[:60]))
    return sorted(rows, key=lambda r: r.day)
