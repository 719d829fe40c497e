"""The statistics part of the demo's summary: the statistics job's aggregates (kept hourly
by the schedule), read as the API reads them."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from gateway.domain.places import name_of
from gateway.models.statistics import StatDimension
from gateway.services import statistics


def statistics_lines(session: Session, last: date) -> list[str]:
    out = []
    for m in statistics.year(session, last.year):
        if m.sessions:
            out.append(
                f"service {m.month:%Y-%m}: {m.hours:.0f} h in {m.sessions} sessions by {m.volunteers} "
                f"volunteers ({m.average_hours} h each); {m.applied} applied, {m.official} became official, "
                f"{m.cards_collected} cards collected"
            )
    month = statistics.month_of(last)
    cells = statistics.cells(session, StatDimension.DISTRICT, month, month)
    shares = ", ".join(f"{name_of(c.key) or 'no place'} {c.minutes / 60:.0f} h" for c in cells[:6])
    out.append(f"service by district {month:%Y-%m}: {shares or 'none yet'}")
    return out
