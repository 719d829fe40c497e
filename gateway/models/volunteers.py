"""Volunteers, their training and service sessions, and the bank's branches.

PII (names, ID number, mobiles, address, emergency contact, guardian, photo) is sealed
with ``Encrypted``; ``id_hash`` (keyed hash of id_type and id_number) serves look-ups and
duplicate detection. Gender, birth date and id type stay plain: they carry no identity on
their own and the eligibility rules and age queries need them (docs/decisions.md).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.domain.places import name_of
from gateway.models.base import Base
from gateway.models.columns import UtcDateTime, utcnow
from gateway.models.types import Encrypted


class VolunteerStatus:
    APPLICANT = "APPLICANT"
    OFFICIAL = "OFFICIAL"
    DEREGISTERED = "DEREGISTERED"


class Branch(Base):
    __tablename__ = "branches"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(20))
    open: Mapped[bool] = mapped_column(Boolean, default=True)


class Volunteer(Base):
    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Applicants get a provisional number; approval assigns the official 10-digit one,
    # which is never reused nor reactivated (volunteers are never deleted).
    provisional_no: Mapped[str] = mapped_column(String(16), unique=True)
    volunteer_no: Mapped[str | None] = mapped_column(String(10), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=VolunteerStatus.APPLICANT, index=True)

    name: Mapped[str] = mapped_column(Encrypted("volunteers.name"))
    id_type: Mapped[str] = mapped_column(String(8))
    id_number: Mapped[str] = mapped_column(Encrypted("volunteers.id_number"))
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    mobile: Mapped[str] = mapped_column(Encrypted("volunteers.mobile"))
    address: Mapped[str] = mapped_column(Encrypted("volunteers.address"))
    emergency_name: Mapped[str] = mapped_column(Encrypted("volunteers.emergency_name"))
    emergency_mobile: Mapped[str] = mapped_column(Encrypted("volunteers.emergency_mobile"))
    guardian_name: Mapped[str | None] = mapped_column(Encrypted("volunteers.guardian_name"))
    guardian_mobile: Mapped[str | None] = mapped_column(Encrypted("volunteers.guardian_mobile"))
    photo: Mapped[bytes | None] = mapped_column(Encrypted("volunteers.photo", binary=True))

    opt_transit: Mapped[bool] = mapped_column(Boolean, default=False)
    opt_health: Mapped[bool] = mapped_column(Boolean, default=False)
    carrier: Mapped[str | None] = mapped_column(String(6))
    branch_code: Mapped[str | None] = mapped_column(ForeignKey("branches.code"))

    applied_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    official_since: Mapped[date | None] = mapped_column(Date)
    deregistered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    source: Mapped[str | None] = mapped_column(String(120))  # e.g. "import:vols.csv:12"
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    training: Mapped[list[TrainingRecord]] = relationship(
        back_populates="volunteer", order_by="TrainingRecord.id"
    )
    sessions: Mapped[list[ServiceSession]] = relationship(
        back_populates="volunteer", order_by="ServiceSession.id"
    )

    @property
    def number(self) -> str:
        """The official number, or the provisional one for an applicant."""
        return self.volunteer_no or self.provisional_no

    @property
    def registered(self) -> bool:
        return self.status == VolunteerStatus.OFFICIAL

    def __repr__(self) -> str:  # never PII
        return f"<Volunteer {self.number} {self.status}>"


class TrainingRecord(Base):
    __tablename__ = "training_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    course: Mapped[str] = mapped_column(String(100))
    minutes: Mapped[int] = mapped_column(Integer)
    held_on: Mapped[date | None] = mapped_column(Date)
    # Where it was recorded, when it came from a terminal (gateway.domain.places code).
    district: Mapped[str | None] = mapped_column(String(10))
    terminal_id: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    volunteer: Mapped[Volunteer] = relationship(back_populates="training")


class SessionKind:
    SESSION = "SESSION"  # checked in and out on the platform
    IMPORTED = "IMPORTED"  # a total carried over from the old platform (no instants)


class ServiceSession(Base):
    """A service session: check-in to check-out (UTC instants). Counts toward the 10
    pre-service hours and proves insurance cover (insurer.md), inside Shenzhen unless its
    place is ``OUTSIDE``. The place is copied from the check-in's terminal (or given by the
    platform), so it stays where the session happened; sessions recorded before places
    were kept have none."""

    __tablename__ = "service_sessions"
    # Open sessions (no check-out), newest first: who is serving now.
    __table_args__ = (Index("ix_service_sessions_open", "check_out", "check_in"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default=SessionKind.SESSION)
    activity: Mapped[str | None] = mapped_column(String(100))
    check_in: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    check_out: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Minutes counted: set at check-out, or the imported total.
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    district: Mapped[str | None] = mapped_column(String(10), index=True)  # gateway.domain.places code
    terminal_id: Mapped[str | None] = mapped_column(String(20))  # the check-in's terminal
    site: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    volunteer: Mapped[Volunteer] = relationship(back_populates="sessions")

    @property
    def district_name(self) -> str | None:
        return name_of(self.district)
