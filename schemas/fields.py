"""Field kinds of the partner files: one table entry per kind, used three ways.

A :class:`Kind` holds, once, what the specs' field tables say about a value: the regular
expression of its text form (for the fast path's compiled line pattern), how the text
becomes a Python value, how a Python value becomes text again (for the writer), and the
short reason given when the text breaks the rule. The marshmallow field
(:class:`SpecField`), the fast path and the writer all use the same entry, so a rule is
written once.

Python types: dates are :class:`datetime.date`; times are *naive* :class:`datetime.datetime`
holding Beijing wall-clock time (the files carry Beijing time and no offset; the writer
also takes aware datetimes and converts them to UTC+8); months (``YYYYMM``) stay ``str``;
integers and money (fen) are ``int``; a blank conditional field is ``None``; free text is
``str`` (``""`` when a 0–n text is empty).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from marshmallow import ValidationError, fields

from schemas import rules

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

# Cc (control characters: C0, DEL, C1) and the field separator can never be in a value.
_TEXT_CHAR = r"[^|\x00-\x1f\x7f-\x9f]"
_BAD_CHAR_RE = re.compile(r"[|\x00-\x1f\x7f-\x9f]")
_PRIVATE_USE_RE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")


class ValueProblem(ValueError):
    """A value breaks its field rule; ``reason`` is short and holds no field value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Kind:
    """What one kind of field looks like on the wire and in Python.

    ``pattern`` matches the whole text form (no capturing groups); ``reason`` is the
    record error when it does not. ``parse`` turns matching text into the Python value
    and raises :class:`ValueProblem` for what a pattern cannot say (a real date, the RIC
    check character...). ``fmt`` turns a Python value back into text, raising
    :class:`ValueProblem` for a value of the wrong type.
    """

    pattern: str
    reason: str
    parse: Callable[[str], Any] = str
    fmt: Callable[[Any], str] | None = None
    python_type: tuple[type, ...] = (str,)
    values: tuple[str, ...] = ()  # an enumeration's values (the block lane writes rules with them)


def _fmt_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueProblem("not text")
    return value


def _parse_date(text: str) -> date:
    d = rules.parse_yyyymmdd(text)
    if d is None:
        raise ValueProblem("not a real date")
    return d


def _fmt_date(value: Any) -> str:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueProblem("not a date")
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _parse_time(text: str) -> datetime:
    try:
        return datetime(
            int(text[:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
        )
    except ValueError:
        raise ValueProblem("not a real time") from None


def _fmt_time(value: Any) -> str:
    if not isinstance(value, datetime):
        raise ValueProblem("not a datetime")
    if value.tzinfo is not None:
        value = value.astimezone(BEIJING)
    return (
        f"{value.year:04d}{value.month:02d}{value.day:02d}"
        f"{value.hour:02d}{value.minute:02d}{value.second:02d}"
    )


def _fmt_int(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueProblem("not an integer")
    return str(value)


def text(lo: int, hi: int) -> Kind:
    reason = f"not {lo} to {hi} characters" if lo else f"more than {hi} characters"
    return Kind(f"{_TEXT_CHAR}{{{lo},{hi}}}", reason, fmt=_fmt_str)


def code(lo: int, hi: int) -> Kind:
    if lo == hi:
        return Kind(f"[A-Z0-9]{{{lo}}}", f"not {lo} of A-Z0-9", fmt=_fmt_str)
    return Kind(f"[A-Z0-9]{{{lo},{hi}}}", f"not {lo} to {hi} of A-Z0-9", fmt=_fmt_str)


_NUMBER_WORDS = {4: "four", 10: "ten", 12: "twelve"}


def digits(n: int) -> Kind:
    # Reason worded as in README.md's ACK example ("not four digits").
    return Kind(f"[0-9]{{{n}}}", f"not {_NUMBER_WORDS.get(n, n)} digits", fmt=_fmt_str)


def enum(*values: str) -> Kind:
    return Kind("|".join(re.escape(v) for v in values), "not an allowed value", fmt=_fmt_str, values=values)


# Integers: README's `-?(0|[1-9][0-9]*)`, bounded to 18 digits so every value fits a
# 64-bit column (a longer one is refused as a record error rather than overflowing).
INTEGER = Kind(r"-?(?:0|[1-9][0-9]{0,17})", "not an integer", parse=int, fmt=_fmt_int, python_type=(int,))
COUNT = Kind(r"(?:0|[1-9][0-9]{0,17})", "not a whole number", parse=int, fmt=_fmt_int, python_type=(int,))
DATE = Kind(r"[0-9]{8}", "not YYYYMMDD", parse=_parse_date, fmt=_fmt_date, python_type=(date,))
TIME = Kind(r"[0-9]{14}", "not YYYYMMDDHHMMSS", parse=_parse_time, fmt=_fmt_time, python_type=(datetime,))
MONTH = Kind(r"[0-9]{4}(?:0[1-9]|1[0-2])", "not YYYYMM", fmt=_fmt_str)
MOBILE = Kind(rules.MOBILE_RE.pattern, "not a mainland mobile number", fmt=_fmt_str)
MASKED_PAN = Kind(r"[0-9]{6}\*{6}[0-9]{4}", "not a masked card number", fmt=_fmt_str)
VOLUNTEER_NO = digits(10)
CARD_ID = code(16, 16)
ID_NUMBER = Kind(r"[A-Z0-9]{5,20}", "not 5 to 20 of A-Z0-9", fmt=_fmt_str)
BRANCH = Kind(r"[0-9]{5}", "not a branch code", fmt=_fmt_str)
SHA256 = Kind(r"[0-9a-f]{64}", "not lower-case hex SHA-256", fmt=_fmt_str)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record type, in file order.

    ``blank``: ``"never"`` (required), ``"rule"`` (blank or not decided by a record rule:
    a blank value reads as ``None``), or ``"text"`` (a free text that may be empty).
    """

    name: str
    kind: Kind
    blank: str = "never"
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.kind.pattern))

    def check_text(self, raw: str) -> Any:
        """The Python value of ``raw``, or :class:`ValueProblem`."""
        if raw == "":
            if self.blank == "rule":
                return None
            if self.blank == "never":
                raise ValueProblem("required")
        if _BAD_CHAR_RE.search(raw):
            raise ValueProblem("control character or separator")
        if not self.compiled.fullmatch(raw):
            raise ValueProblem(self.kind.reason)
        return self.kind.parse(raw)

    def to_text(self, value: Any) -> str:
        """The text form the writer sends; refuses rather than alters a value."""
        if value is None or value == "":
            if self.blank == "never":
                raise ValueProblem("required")
            return ""
        fmt = self.kind.fmt or _fmt_str
        out = fmt(value)
        if _BAD_CHAR_RE.search(out):
            raise ValueProblem("control character or separator")
        if _PRIVATE_USE_RE.search(out):
            raise ValueProblem("private-use character")
        return out

    def line_pattern(self) -> str:
        """A capturing group for the fast path's whole-line pattern."""
        body = self.kind.pattern
        if "|" in body or self.blank != "never":  # alternation or optional: group it
            body = f"(?:{body})"
        if self.blank != "never":
            body += "?"
        return f"({body})"


class SpecField(fields.Field):
    """marshmallow field for one :class:`FieldSpec`: text in, Python value out."""

    def __init__(self, spec: FieldSpec, **kwargs: Any) -> None:
        super().__init__(required=True, **kwargs)
        self.spec = spec

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError("not text")
        try:
            return self.spec.check_text(value)
        except ValueProblem as exc:
            raise ValidationError(exc.reason) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        try:
            return self.spec.to_text(value)
        except ValueProblem as exc:
            raise ValidationError(exc.reason) from None


def has_bad_char(value: str) -> bool:
    return _BAD_CHAR_RE.search(value) is not None
