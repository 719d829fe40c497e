"""The programme's statistics, kept as aggregates by a job (``jobs.statistics``), so the
API and the console read a few dozen rows per year instead of scanning millions of
sessions per request.

A month is a Beijing calendar month, named by its first day. A session counts in the
month of its check-in, once it is checked out (its minutes are known then); imported
totals from the old platform carry no instant and are in no month. ``volunteers`` is the
number of distinct volunteers with such a session in the month (in the cell's district or
organisation, for a cell): it is not additive across months or cells.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models.base import Base
from gateway.models.columns import UtcDateTime, utcnow


class StatMonth(Base):
    """The whole programme's figures for one month."""

    __tablename__ = "stat_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    volunteers: Mapped[int] = mapped_column(Integer, default=0)  # distinct, who served
    applied: Mapped[int] = mapped_column(Integer, default=0)  # volunteers who applied
    official: Mapped[int] = mapped_column(Integer, default=0)  # who became official
    cards_collected: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StatDimension:
    DISTRICT = "district"  # key: a gateway.domain.places code, "" when none was recorded
    ORGANISATION = "organisation"  # key: the check-in terminal's organisation, "" when none
    # key: the organisation, sub: the district (the console's district figures for one
    # organisation)
    ORGANISATION_DISTRICT = "org_district"


class StatCell(Base):
    """One month's service in one district, by one organisation, or by one organisation
    in one district (``sub``: the district; "" for the other dimensions)."""

    __tablename__ = "stat_cells"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(12), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    sub: Mapped[str] = mapped_column(String(10), primary_key=True, default="")
    minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    volunteers: Mapped[int] = mapped_column(Integer, default=0)
