"""What a partner record type is: its fields in file order and its record rules, with the
rules several types share (``schemas.recordtypes`` lists every type).

A record rule is a function ``(data, ctx)`` that returns ``(field, reason)`` when broken,
else ``None``; it declares the fields it needs, and runs only when those fields passed
their own rules (so one bad value gives one error, not a cascade). ``schemas.validate``
builds from a :class:`RecordType` both its marshmallow schema and the fast path's
compiled line pattern; the writer checks with the same schema.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from schemas import rules
from schemas.fields import FieldSpec

Problem = tuple[str, str] | None


def load_branches() -> frozenset[str]:
    """The branch codes of the packaged copy of partners/branches.csv."""
    with resources.files("schemas").joinpath("data/branches.csv").open(encoding="utf-8") as f:
        return frozenset(row["branch_code"] for row in csv.DictReader(f))


@dataclass(frozen=True)
class Context:
    """What a record's rules are checked against: the file's business date and the
    bank's branch codes (the packaged list unless the caller passes its own)."""

    business_date: date
    branches: frozenset[str]

    @classmethod
    def of(cls, business_date: date, branches: frozenset[str] | None = None) -> Context:
        return cls(business_date, branches if branches is not None else DEFAULT_BRANCHES)


DEFAULT_BRANCHES = load_branches()


@dataclass(frozen=True)
class Rule:
    """A record rule. ``presence`` is set for the "field only when selector is one of
    values" rules and ``bound`` for the business-date bounds, so that the fast path can
    inline them (from the same metadata) instead of calling ``check`` per line."""

    needs: tuple[str, ...]
    check: Callable[[dict[str, Any], Context], Problem]
    presence: tuple[str, str, tuple[str, ...]] | None = None
    bound: tuple[str, str] | None = None


@dataclass(frozen=True)
class RecordType:
    name: str
    fields: tuple[FieldSpec, ...]
    rules: tuple[Rule, ...] = ()
    money_field: str | None = None
    directions: frozenset[tuple[str, str]] = frozenset()
    ext: str = "txt"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def id_field(self) -> str:
        return self.fields[0].name


def F(name: str, kind: Any, blank: str = "never") -> FieldSpec:  # noqa: N802 - table shorthand
    return FieldSpec(name, kind, blank)


def rule(*needs: str) -> Callable[[Callable[..., Problem]], Rule]:
    def wrap(fn: Callable[..., Problem]) -> Rule:
        return Rule(needs, fn)

    return wrap


# ---- rules shared by several types -------------------------------------------------


def present_only_when(field: str, selector: str, values: tuple[str, ...], label: str | None = None) -> Rule:
    """``field`` is required when ``selector`` is one of ``values`` and blank otherwise;
    the reason names ``label``, by default the values (``PRODUCED or NOTIFIED``)."""
    label = label or " or ".join(values)

    def check(d: dict[str, Any], ctx: Context) -> Problem:
        wanted = d[selector] in values
        have = d[field] is not None
        if wanted and not have:
            return field, f"required for {label}"
        if have and not wanted:
            return field, f"only for {label}"
        return None

    return Rule((field, selector), check, presence=(field, selector, values))


# Bounds against the business date: relation -> (broken?, reason). The fast path
# inlines the same relations (schemas.validate.BOUND_EXPR); a date is compared with the
# business date, a time with the day's first instant and the next day's.
BOUNDS: dict[str, tuple[Callable[[Any, Context], bool], str]] = {
    "date_not_after": (lambda v, ctx: v > ctx.business_date, "after business date"),
    "date_not_before": (lambda v, ctx: v < ctx.business_date, "before business date"),
    "time_on_day": (lambda v, ctx: v.date() != ctx.business_date, "not within business date"),
    "time_by_day_end": (
        lambda v, ctx: v.date() > ctx.business_date,
        "after end of business date",
    ),
}


def bound(field: str, relation: str) -> Rule:
    """``field`` (a date or time; a blank one passes) stands in ``relation`` to the
    business date."""
    broken, reason = BOUNDS[relation]

    def check(d: dict[str, Any], ctx: Context) -> Problem:
        v = d[field]
        if v is not None and broken(v, ctx):
            return field, reason
        return None

    return Rule((field,), check, bound=(field, relation))


def not_after_business_date(field: str) -> Rule:
    return bound(field, "date_not_after")


@rule("branch_code")
def branch_known(d: dict[str, Any], ctx: Context) -> Problem:
    if d["branch_code"] not in ctx.branches:
        return "branch_code", "not a branch code of branches.csv"
    return None


@rule("id_type", "id_number")
def id_number_rule(d: dict[str, Any], ctx: Context) -> Problem:
    reason = rules.id_number_problem(d["id_type"], d["id_number"], ctx.business_date)
    return ("id_number", reason) if reason else None


def _ric_ok(d: dict[str, Any], ctx: Context) -> bool:
    return d["id_type"] == "RIC" and not rules.ric_problem(d["id_number"], ctx.business_date)


@rule("id_type", "id_number", "birth_date")
def ric_birth_date(d: dict[str, Any], ctx: Context) -> Problem:
    if _ric_ok(d, ctx) and rules.ric_birth_date(d["id_number"]) != d["birth_date"]:
        return "birth_date", "birth date disagrees with id number"
    return None


@rule("id_type", "id_number", "gender")
def ric_gender(d: dict[str, Any], ctx: Context) -> Problem:
    if _ric_ok(d, ctx) and rules.ric_gender(d["id_number"]) != d["gender"]:
        return "gender", "gender disagrees with id number"
    return None
