"""A volunteer's personal data, as bank.md's CARDORDER names its fields.

One field list for everything that carries a person: the eligibility rules' candidate,
an application, the bank's order line. Plain values (PII already decrypted): whoever
holds one keeps it in memory only.
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


def personal_data_of(source: object) -> dict[str, Any]:
    """The :class:`PersonalData` fields of ``source`` (a volunteer row, an application), by name."""
    return {f.name: getattr(source, f.name) for f in fields(PersonalData)}
