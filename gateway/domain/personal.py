"""A volunteer's personal data, as bank.md's CARDORDER names its fields.

One field list for everything that carries a person: the eligibility rules' candidate,
an application, the bank's order line; and one for what an application adds to it.
Plain values (PII already decrypted): whoever holds one keeps it in memory only.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any


@dataclass(frozen=True, kw_only=True)
class PersonalData:
    """Identity and contact fields of a volunteer (keyword-only: subclasses add theirs)."""

    name: str
    id_type: str
    id_number: str
    gender: str
    birth_date: date
    mobile: str
    address: str
    emergency_name: str
    emergency_mobile: str


@dataclass(frozen=True, kw_only=True)
class ApplicantData(PersonalData):
    """What an application adds to the personal data: the guardian of a minor, the photo,
    the card's carrier and branch (each may come later, before the card is ordered)."""

    guardian_name: str | None = None
    guardian_mobile: str | None = None
    photo: bytes | None = None
    carrier: str | None = None
    branch_code: str | None = None


def fields_of(kind: type[PersonalData], source: object) -> dict[str, Any]:
    """The fields of ``kind`` (:class:`PersonalData` or :class:`ApplicantData`) read from
    ``source`` (a volunteer row, an application), by name."""
    return {f.name: getattr(source, f.name) for f in fields(kind)}
