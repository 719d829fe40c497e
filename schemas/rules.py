"""Field rules shared by the partner-file schemas and the gateway's eligibility checks.

Each rule of bank.md's field tables that is more than a pattern lives here, once: the RIC
number, mobile numbers, ages on a business date. Every check returns ``None`` when the
value is good, or a short reason (no field value in it, so it can go into an ACK's
``line:<n>:<field>:<reason>`` text and into logs as it is).
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.cn import ric as stdnum_ric

ID_TYPES = ("RIC", "HKMO", "TW", "PASSPORT", "FRP")
MIN_AGE = 10
CREDIT_MIN_AGE = 18
GUARDIAN_BELOW_AGE = 14

MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
OTHER_ID_RE = re.compile(r"[A-Z0-9]{5,20}")
RIC_SHAPE_RE = re.compile(r"[0-9]{17}[0-9X]")


def parse_yyyymmdd(value: str) -> date | None:
    """The date written as ``YYYYMMDD``, or None when it is not a real date."""
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def ric_problem(id_number: str, business_date: date) -> str | None:
    """bank.md: 17 digits and the GB 11643-1999 check character (upper-case ``X``),
    characters 7–14 a real date not after the business date. The region code
    (characters 1–6) is deliberately not checked: districts are created and renamed
    (python-stdnum's region table rejects 440309–440311), so only its check-character
    arithmetic is used."""
    if not RIC_SHAPE_RE.fullmatch(id_number):
        return "not 17 digits and a check character"
    if stdnum_ric.calc_check_digit(id_number) != id_number[17]:
        return "check character wrong"
    born = parse_yyyymmdd(id_number[6:14])
    if born is None:
        return "birth date in number not a real date"
    if born > business_date:
        return "birth date in number after business date"
    return None


def ric_birth_date(id_number: str) -> date | None:
    return parse_yyyymmdd(id_number[6:14])


def ric_gender(id_number: str) -> str:
    """``M`` for an odd 17th character, ``F`` for an even one."""
    return "M" if int(id_number[16]) % 2 else "F"


def id_number_problem(id_type: str, id_number: str, business_date: date) -> str | None:
    if id_type == "RIC":
        return ric_problem(id_number, business_date)
    if id_type not in ID_TYPES:
        return "unknown id type"
    if not OTHER_ID_RE.fullmatch(id_number):
        return "not 5 to 20 of A-Z0-9"
    return None


def ric_consistency_problem(id_number: str, gender: str, birth_date: date) -> str | None:
    """For a RIC: gender agrees with the 17th character, birth date with characters 7–14."""
    if ric_gender(id_number) != gender:
        return "gender disagrees with id number"
    if ric_birth_date(id_number) != birth_date:
        return "birth date disagrees with id number"
    return None


def age_on(birth_date: date, on: date) -> int:
    """Age in whole years on ``on``: age n is reached on the n-th birthday, and a
    29 February birthday counts as 1 March in common years (bank.md)."""
    years = on.year - birth_date.year
    month_day = (birth_date.month, birth_date.day)
    if month_day == (2, 29) and not _is_leap(on.year):
        month_day = (3, 1)
    if (on.month, on.day) < month_day:
        years -= 1
    return years


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def is_mobile(value: str) -> bool:
    """Mainland mobile number: 11 digits, ``1[3-9]`` then 9 digits."""
    return MOBILE_RE.fullmatch(value) is not None


def ric_check_character(first17: str) -> str:
    """The GB 11643-1999 check character for 17 digits (for generators and tests)."""
    return stdnum_ric.calc_check_digit(first17 + "0")
