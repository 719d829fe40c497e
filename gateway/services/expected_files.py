"""The inbound files each partner owes us for a day (its registry declaration's
``expected``), and which of them arrived: the check the schedule runs two hours after each
deadline (``jobs.exchange.check_expected``) and the console's overview both ask here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models.exchange import Alert, ExchangeFile
from gateway.partners import registry
from gateway.services.calendar import working_calendar


@dataclass(frozen=True)
class ExpectedFile:
    partner: str
    file_type: str
    business_date: date
    file_id: int | None  # the file that arrived, if one did
    status: str | None  # its status
    missing_alert: bool  # the deadline check found it missing (an open file_missing alert)

    @property
    def subject(self) -> str:
        """The alert subject of this file when it is missing."""
        return f"{self.partner}:{self.file_type}:{self.business_date:%Y%m%d}"

    @property
    def state(self) -> str:
        """arrived | missing (past its deadline) | awaited."""
        if self.file_id is not None:
            return "arrived"
        return "missing" if self.missing_alert else "awaited"


def expected_files(session: Session, partner_id: str, day: date) -> list[ExpectedFile]:
    """What ``partner_id`` owes for the checking day ``day``, arrived or not."""
    cal = working_calendar(session)
    out = []
    for expected in registry.get(partner_id).expected:
        bdate = day + timedelta(days=expected.offset_days)
        if expected.working_days_only and not cal.is_working(bdate):
            continue
        found = session.execute(
            select(ExchangeFile.id, ExchangeFile.status)
            .where(
                ExchangeFile.partner == partner_id,
                ExchangeFile.direction == "in",
                ExchangeFile.file_type == expected.file_type,
                ExchangeFile.business_date == bdate,
            )
            .order_by(ExchangeFile.id)
            .limit(1)
        ).first()
        subject = f"{partner_id}:{expected.file_type}:{bdate:%Y%m%d}"
        alerted = session.scalar(
            select(Alert.id).where(Alert.kind == "file_missing", Alert.subject == subject).limit(1)
        )
        out.append(
            ExpectedFile(
                partner_id,
                expected.file_type,
                bdate,
                found[0] if found else None,
                found[1] if found else None,
                alerted is not None,
            )  # fmt: skip
        )
    return out
