"""The platform's POS terminals, and the swipes they sent.

A terminal is never deleted (sessions name it): it is deactivated. A session copies the
terminal's district and site when it is recorded, so it keeps the place where it happened
if the terminal is moved later. ``terminal_swipes`` logs every accepted terminal swipe: it
is how a repeated swipe is recognised (``gateway.domain.service_rules.REPEAT_WINDOW``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.domain.places import name_of
from gateway.models.base import Base
from gateway.models.columns import UtcDateTime, utcnow

# Degrees with 6 decimals: about 0.1 m, and room for 180.
COORDINATE = Numeric(9, 6)


class Terminal(Base):
    __tablename__ = "terminals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(20), unique=True)
    organisation: Mapped[str] = mapped_column(String(100), index=True)
    district: Mapped[str] = mapped_column(String(10), index=True)  # gateway.domain.places code
    site_name: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[Decimal | None] = mapped_column(COORDINATE)
    longitude: Mapped[Decimal | None] = mapped_column(COORDINATE)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str | None] = mapped_column(String(120))  # "api:<token>", "load:<file>:<line>"
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    @property
    def district_name(self) -> str | None:
        return name_of(self.district)

    def __repr__(self) -> str:
        return f"<Terminal {self.terminal_id} {self.district}>"


class TerminalSwipe(Base):
    """One accepted swipe at a terminal: check-in, check-out or training, and what it
    recorded (the session or the training record), so a repeat answers the same."""

    __tablename__ = "terminal_swipes"
    __table_args__ = (Index("ix_terminal_swipes_repeat", "terminal_pk", "volunteer_id", "kind", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_pk: Mapped[int] = mapped_column(ForeignKey("terminals.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(9))  # service_rules.SwipeKind
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    card_id: Mapped[str | None] = mapped_column(String(16))  # the card swiped, if one was
    session_id: Mapped[int | None] = mapped_column(ForeignKey("service_sessions.id"))
    training_id: Mapped[int | None] = mapped_column(ForeignKey("training_records.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
