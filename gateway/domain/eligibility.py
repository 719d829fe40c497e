"""Eligibility of a volunteer for approval and for a card order: each rule in one place.

Rule names (``Problem.rule``) are stable and each has a test named after it:

- ``FIELD_LENGTH``      name, address, emergency name within bank.md's lengths
- ``ID_NUMBER``         the ID number as bank.md defines it (RIC: check character, birth date)
- ``RIC_CONSISTENCY``   for a RIC, gender and birth date agree with the number
- ``GENDER``            ``M`` or ``F``
- ``MIN_AGE``           10 or over on the business date, as bank.md counts age
- ``GUARDIAN``          a guardian (name and mobile) recorded under 14
- ``MOBILE``            mobile numbers are mainland mobiles
- ``TRAINING_HOURS``    at least 2 training hours before approval
- ``SERVICE_HOURS``     at least 10 pre-service hours before approval
- ``PHOTO``             a JPEG of at least 295×413 stored pixels
- ``CARRIER``           ``DEBIT`` or ``CREDIT``; ``CREDIT`` only from 18
- ``BRANCH``            a known, open branch

The rules themselves come from ``schemas.rules`` (shared with the partner files).
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from PIL import Image, UnidentifiedImageError

from gateway.domain.errors import Problem
from gateway.domain.personal import ApplicantData
from schemas import rules

MIN_TRAINING_MINUTES = 2 * 60
MIN_SERVICE_MINUTES = 10 * 60
PHOTO_MIN_WIDTH = 295
PHOTO_MIN_HEIGHT = 413
CARRIERS = ("DEBIT", "CREDIT")
LENGTHS = {"name": 30, "address": 100, "emergency_name": 30, "guardian_name": 30}


@dataclass(frozen=True, kw_only=True)
class Candidate(ApplicantData):
    """What the rules look at (plain data, decrypted)."""

    training_minutes: int = 0
    service_minutes: int = 0


def photo_problem(photo: bytes | None) -> str | None:
    """bank.md: a JPEG whose stored pixels are at least 295 wide by 413 tall."""
    if not photo:
        return "missing"
    try:
        with Image.open(io.BytesIO(photo)) as img:
            fmt, (width, height) = img.format, img.size  # stored pixels: EXIF rotation ignored
    except (UnidentifiedImageError, OSError, ValueError):
        return "not an image"
    if fmt != "JPEG":
        return "not a JPEG"
    if width < PHOTO_MIN_WIDTH or height < PHOTO_MIN_HEIGHT:
        return f"smaller than {PHOTO_MIN_WIDTH}x{PHOTO_MIN_HEIGHT} pixels"
    return None


def identity_problems(c: Candidate, business_date: date) -> list[Problem]:
    """Field rules of the identity and contact data (also used by the bulk import)."""
    out: list[Problem] = []
    for fld, limit in LENGTHS.items():
        value = getattr(c, fld)
        if value is None and fld == "guardian_name":
            continue
        if not value or len(value) > limit:
            out.append(Problem(fld, "FIELD_LENGTH", f"must be 1 to {limit} characters"))
    if c.gender not in ("M", "F"):
        out.append(Problem("gender", "GENDER", "must be M or F"))
    reason = rules.id_number_problem(c.id_type, c.id_number, business_date)
    if c.id_type not in rules.ID_TYPES:
        out.append(Problem("id_type", "ID_NUMBER", "unknown id type"))
    elif reason:
        out.append(Problem("id_number", "ID_NUMBER", reason))
    elif c.id_type == "RIC" and c.gender in ("M", "F"):
        consistency = rules.ric_consistency_problem(c.id_number, c.gender, c.birth_date)
        if consistency:
            fld = "gender" if "gender" in consistency else "birth_date"
            out.append(Problem(fld, "RIC_CONSISTENCY", consistency))
    for fld in ("mobile", "emergency_mobile"):
        if not rules.is_mobile(getattr(c, fld) or ""):
            out.append(Problem(fld, "MOBILE", "not a mainland mobile number"))
    if c.guardian_mobile is not None and not rules.is_mobile(c.guardian_mobile):
        out.append(Problem("guardian_mobile", "MOBILE", "not a mainland mobile number"))
    return out


def age_problems(c: Candidate, business_date: date) -> list[Problem]:
    age = rules.age_on(c.birth_date, business_date)
    out = []
    if age < rules.MIN_AGE:
        out.append(Problem("birth_date", "MIN_AGE", f"under {rules.MIN_AGE} on the business date"))
    if age < rules.GUARDIAN_BELOW_AGE and not (c.guardian_name and c.guardian_mobile):
        out.append(
            Problem(
                "guardian_name", "GUARDIAN", f"a guardian must be recorded under {rules.GUARDIAN_BELOW_AGE}"
            )
        )
    return out


def carrier_problem(carrier: str | None, birth_date: date, business_date: date) -> Problem | None:
    if carrier not in CARRIERS:
        return Problem("carrier", "CARRIER", "must be DEBIT or CREDIT")
    if carrier == "CREDIT" and rules.age_on(birth_date, business_date) < rules.CREDIT_MIN_AGE:
        return Problem("carrier", "CARRIER", f"CREDIT needs age {rules.CREDIT_MIN_AGE} or over")
    return None


def branch_problem(branch_code: str | None, open_branches: Collection[str]) -> Problem | None:
    if not branch_code or branch_code not in open_branches:
        return Problem("branch_code", "BRANCH", "not a known open branch")
    return None


def hours_problems(c: Candidate) -> list[Problem]:
    out = []
    if c.training_minutes < MIN_TRAINING_MINUTES:
        out.append(Problem("training_hours", "TRAINING_HOURS", "at least 2 training hours are needed"))
    if c.service_minutes < MIN_SERVICE_MINUTES:
        out.append(Problem("service_hours", "SERVICE_HOURS", "at least 10 pre-service hours are needed"))
    return out


def card_order_problems(c: Candidate, business_date: date, open_branches: Collection[str]) -> list[Problem]:
    """Everything a NEW card order needs: valid identity and contact data, age, guardian,
    photo, carrier and branch. Empty when the volunteer is due for a card."""
    out = identity_problems(c, business_date)
    out += age_problems(c, business_date)
    reason = photo_problem(c.photo)
    if reason:
        out.append(Problem("photo", "PHOTO", reason))
    for p in (
        carrier_problem(c.carrier, c.birth_date, business_date),
        branch_problem(c.branch_code, open_branches),
    ):
        if p:
            out.append(p)
    return out


def approval_problems(c: Candidate, business_date: date, open_branches: Collection[str]) -> list[Problem]:
    """Every rule for approval to an official number: the card-order rules and the hours."""
    return card_order_problems(c, business_date, open_branches) + hours_problems(c)
