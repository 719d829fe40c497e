"""The working-day calendar: one row per year (loaded or not) and its exceptional days."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.models.base import Base
from gateway.models.columns import UtcDateTime, utcnow


class CalendarYear(Base):
    """A year whose schedule is known. A year without a row is "not loaded": only
    weekends are non-working and due dates depending on it are provisional."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(120))  # "holidays 0.109" or the operator's file
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(64), default="system")

    days: Mapped[list[CalendarDay]] = relationship(
        back_populates="calendar_year", order_by="CalendarDay.day", cascade="all, delete-orphan"
    )


class CalendarDay(Base):
    """A day that differs from the Monday–Friday rule: a holiday on a weekday
    (``working`` false) or a make-up working day on a weekend (``working`` true)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year"), index=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(60), default="")

    calendar_year: Mapped[CalendarYear] = relationship(back_populates="days")
