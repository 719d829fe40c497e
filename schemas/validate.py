"""The marshmallow schema of every record type, and the fast path derived from it.

Both are built from ``schemas.recordtypes``: the schema's fields are :class:`SpecField`
of the table's field kinds and its ``validates_schema`` runs the table's record rules; the
fast path is one compiled pattern per type (the kinds' patterns joined by ``|``) plus a
generated function that converts the matched groups and runs the same record rules. The
fast path only says *valid* (and returns the typed record); anything else is sent to the
schema, which alone writes error messages, so the messages cannot depend on the path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, validates_schema

from schemas.fields import DATE, TIME, SpecField
from schemas.recordtypes import TYPES, Context, RecordType

FieldErrors = list[tuple[str, str]]


class RecordSchema(Schema):
    """Base of the per-type schemas: ``load`` takes ``{field: text}`` and gives typed
    values. The record rules need the file's :class:`Context` (business date, branch
    codes), passed to the constructor (marshmallow 4 has no schema context)."""

    record_type: ClassVar[RecordType]

    def __init__(self, ctx: Context, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx

    @validates_schema(skip_on_field_errors=False)
    def _record_rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        for r in self.record_type.rules:
            if all(n in data for n in r.needs):
                problem = r.check(data, self.ctx)
                if problem is not None and problem[0] not in errors:
                    errors[problem[0]] = [problem[1]]
        if errors:
            raise ValidationError(errors)


def _schema_class(rt: RecordType) -> type[RecordSchema]:
    attrs: dict[str, Any] = {f.name: SpecField(f) for f in rt.fields}
    attrs["record_type"] = rt
    attrs["__doc__"] = f"{rt.name} record: every field rule of its spec table."
    name = rt.name.capitalize() + "Schema"
    return type(name, (RecordSchema,), attrs)


class _Schemas(dict):
    """The schema class of each record type, built for a type registered later on first use."""

    def __missing__(self, name: str) -> type[RecordSchema]:
        self[name] = cls = _schema_class(TYPES[name])
        return cls


SCHEMAS: dict[str, type[RecordSchema]] = _Schemas({name: _schema_class(rt) for name, rt in TYPES.items()})


def schema_check(schema: RecordSchema, raw: list[str]) -> tuple[dict[str, Any] | None, FieldErrors]:
    """Typed record, or its errors in field order (``record`` for a whole-record one)."""
    rt = schema.record_type
    try:
        return schema.load(dict(zip(rt.field_names, raw, strict=True))), []
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"record": exc.messages}
        out: FieldErrors = []
        order = {n: i for i, n in enumerate(rt.field_names)}
        for fname in sorted(messages, key=lambda n: order.get(n, len(order))):
            msgs = messages[fname]
            reason = msgs[0] if isinstance(msgs, list) else str(msgs)
            out.append((fname if fname in order else "record", str(reason)))
        return None, out


# ---- the fast path -------------------------------------------------------------------

_CACHE_LIMIT = 200_000
FastCheck = Callable[[str], "dict[str, Any] | None"]


def _cached(parse: Callable[[str], Any], cache: dict[str, Any]) -> Callable[[str], Any]:
    """``parse`` memoised: a day's SWIPE file has at most 86,400 distinct times, so
    converting each once keeps the hot loop free of datetime construction."""

    def fill(text: str) -> Any:
        value = parse(text)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[text] = value
        return value

    return fill


def line_pattern(rt: RecordType) -> re.Pattern[str]:
    """The whole ``D`` line of a valid record (an optional CR tolerated at the end)."""
    return re.compile(r"D\|" + r"\|".join(f.line_pattern() for f in rt.fields) + r"\r?")


# The fast path's inline form of each business-date bound (record_type.BOUNDS): true
# when broken; ``v`` is the value, ``bd`` the business date, ``t0``/``t1`` the day's
# first instant and the next day's.
BOUND_EXPR = {
    "date_not_after": "{v} > bd",
    "date_not_before": "{v} < bd",
    "time_on_day": "not (t0 <= {v} < t1)",
    "time_by_day_end": "{v} >= t1",
}


@cache
def _fast_source(rt: RecordType) -> tuple[Any, dict[str, Any]]:
    """Compiled source of ``make(ctx) -> fast(line)`` for one type, and its globals.

    Generated (not a loop over fields) because it runs up to 2,000,000 times a file;
    every piece comes from the table: the pattern, the parsers, the record rules (the
    presence and bound rules inlined from their metadata, the others called).
    """
    env: dict[str, Any] = {
        "match": line_pattern(rt).fullmatch,
        "ValueError": ValueError,
        "datetime": datetime,
        "timedelta": timedelta,
    }
    index = {f.name: i for i, f in enumerate(rt.fields)}
    converts, items = [], []
    for i, f in enumerate(rt.fields):
        expr = f"g[{i}]"
        if f.kind.parse is not str:
            if f.kind in (DATE, TIME):
                cache_: dict[str, Any] = {}
                env[f"c{i}"] = cache_
                env[f"p{i}"] = _cached(f.kind.parse, cache_)
                conv = f"(c{i}.get(g[{i}]) or p{i}(g[{i}]))"
            else:
                env[f"p{i}"] = f.kind.parse
                conv = f"p{i}(g[{i}])"
            if f.blank == "rule":
                conv = f"({conv} if g[{i}] else None)"
            converts.append(f"            v{i} = {conv}\n")
            expr = f"v{i}"
        elif f.blank == "rule":
            expr = f"(g[{i}] or None)"
        items.append(f"{f.name!r}: {expr}")
    checks = []
    for j, r in enumerate(rt.rules):
        if r.presence is not None:
            fname, selector, values = r.presence
            env[f"s{j}"] = frozenset(values)
            checks.append(f"((g[{index[selector]}] in s{j}) != (g[{index[fname]}] != ''))")
        elif r.bound is not None:
            fname, relation = r.bound
            v = f"v{index[fname]}"
            test = BOUND_EXPR[relation].format(v=v)
            blankable = rt.fields[index[fname]].blank != "never"
            checks.append(f"({v} is not None and {test})" if blankable else f"({test})")
        else:
            env[f"r{j}"] = r.check
            checks.append(f"r{j}(d, ctx) is not None")
    src = (
        "def make(ctx):\n"
        "    bd = ctx.business_date\n"
        "    t0 = datetime(bd.year, bd.month, bd.day)\n"
        "    t1 = t0 + timedelta(days=1)\n"
        "    def fast(line):\n"
        "        m = match(line)\n"
        "        if m is None:\n"
        "            return None\n"
        "        g = m.groups()\n"
        "        try:\n"
        f"{''.join(converts) or '            pass' + chr(10)}"
        "        except ValueError:\n"
        "            return None\n"
        f"        d = {{{', '.join(items)}}}\n"
        f"        if {' or '.join(checks) or 'False'}:\n"
        "            return None\n"
        "        return d\n"
        "    return fast\n"
    )
    return compile(src, f"<fast path {rt.name}>", "exec"), env


def build_fast_check(rt: RecordType, ctx: Context) -> FastCheck:
    """A function ``line -> typed record | None`` for one type and one file's context."""
    code, env = _fast_source(rt)
    namespace = dict(env)
    exec(code, namespace)  # noqa: S102 - source generated from the table above
    return namespace["make"](ctx)


# ---- the block lane ------------------------------------------------------------------

# A valid time of day, HHMMSS (datetime refuses 24h and a 60th second, and so does this).
_TIME_OF_DAY = "(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]"


def lane_pattern(rt: RecordType, ctx: Context) -> re.Pattern[str] | None:
    """A pattern that matches only the valid ``D`` lines of one type in one file's
    context, or None when the type has a rule a regular expression cannot hold here.

    With it the reader checks a whole block of lines in C (``map`` of one match), for
    consumers that take the field texts (``Reader.texts``). It is built from the same
    table as the fast path — the field kinds' patterns, with the record rules written
    into them — and it only has to be *sound*: a line it accepts is valid; a line it
    refuses (valid or not) sends its block the ordinary way, which alone decides and
    writes the messages. What it can hold: kinds whose text always converts (text,
    codes, enumerations, integers), a time bound to the business date (the date's own
    digits, then a valid time of day), and "field only when selector is one of values"
    when the selector is an enumeration just before the field.
    """
    index = {f.name: i for i, f in enumerate(rt.fields)}
    groups = [f.line_pattern() for f in rt.fields]
    for i, f in enumerate(rt.fields):
        if f.kind.parse not in (str, int):
            groups[i] = ""  # must be written by a rule below
    for r in rt.rules:
        if r.bound is not None:
            fname, relation = r.bound
            i = index[fname]
            if relation != "time_on_day" or rt.fields[i].kind is not TIME or rt.fields[i].blank != "never":
                return None
            bd = ctx.business_date  # (not %Y: it does not pad a year below 1000)
            groups[i] = f"({bd.year:04d}{bd.month:02d}{bd.day:02d}{_TIME_OF_DAY})"
        elif r.presence is not None:
            fname, selector, values = r.presence
            s, i = index[selector], index[fname]
            kind = rt.fields[s].kind
            if s + 1 != i or i + 1 == len(rt.fields) or not kind.values or rt.fields[i].blank != "rule":
                return None
            if groups[s] != rt.fields[s].line_pattern():
                return None  # one rule per selector
            wanted = "|".join(re.escape(v) for v in kind.values if v in values)
            others = "|".join(re.escape(v) for v in kind.values if v not in values)
            # a wanted value only before a field that is not blank, any other only before a blank one
            branches = [
                f"(?:{wanted})(?=\\|[^|])" if wanted else "",
                f"(?:{others})(?=\\|\\|)" if others else "",
            ]
            groups[s] = "(" + "|".join(b for b in branches if b) + ")"
        else:
            return None
    if "" in groups:
        return None
    return re.compile(r"D\|" + r"\|".join(groups) + r"\r?")


class Validator:
    """Checks the ``D`` lines of one file: fast path first, schema for the rest.

    ``fast=False`` sends every line through the schema (tests compare both modes).
    """

    def __init__(self, rt: RecordType, ctx: Context, *, fast: bool = True) -> None:
        self.rt = rt
        self.ctx = ctx
        self.schema = SCHEMAS[rt.name](ctx)
        self.fast = build_fast_check(rt, ctx) if fast else None
        self.lane = lane_pattern(rt, ctx) if fast else None

    def check_fields(self, raw: list[str]) -> tuple[dict[str, Any] | None, FieldErrors]:
        return schema_check(self.schema, raw)
