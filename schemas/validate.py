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


SCHEMAS: dict[str, type[RecordSchema]] = {name: _schema_class(rt) for name, rt in TYPES.items()}


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
FastCheck = Callable[[str, Context], "dict[str, Any] | None"]


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


@cache
def build_fast_check(rt: RecordType) -> FastCheck:
    """A function ``(line, ctx) -> typed record | None`` for one record type.

    It is generated source (not a loop over fields) because it runs up to 2,000,000
    times a file; every piece of it comes from the table: the pattern, the parsers and
    the record rules.
    """
    env: dict[str, Any] = {"match": line_pattern(rt).fullmatch, "ValueError": ValueError}
    items = []
    for i, f in enumerate(rt.fields):
        expr = f"g[{i}]"
        if f.kind.parse is not str:
            cache: dict[str, Any] = {}
            env[f"c{i}"] = cache
            if f.kind in (DATE, TIME):
                env[f"p{i}"] = _cached(f.kind.parse, cache)
                expr = f"(c{i}.get(g[{i}]) or p{i}(g[{i}]))"
            else:
                env[f"p{i}"] = f.kind.parse
                expr = f"p{i}(g[{i}])"
        if f.blank == "rule":
            expr = f"({expr} if g[{i}] else None)"
        items.append(f"{f.name!r}: {expr}")
    checks = []
    index = {f.name: i for i, f in enumerate(rt.fields)}
    for j, r in enumerate(rt.rules):
        if r.presence is not None:  # same rule as r.check, without a call per line
            fname, selector, values = r.presence
            env[f"v{j}"] = frozenset(values)
            checks.append(f"(g[{index[selector]}] in v{j}) != (g[{index[fname]}] != '')")
        else:
            env[f"r{j}"] = r.check
            checks.append(f"r{j}(d, ctx) is not None")
    rule_test = " or ".join(checks) or "False"
    src = (
        "def fast(line, ctx):\n"
        "    m = match(line)\n"
        "    if m is None:\n"
        "        return None\n"
        "    g = m.groups()\n"
        "    try:\n"
        f"        d = {{{', '.join(items)}}}\n"
        "    except ValueError:\n"
        "        return None\n"
        f"    if {rule_test}:\n"
        "        return None\n"
        "    return d\n"
    )
    exec(compile(src, f"<fast path {rt.name}>", "exec"), env)  # noqa: S102 - generated above
    return env["fast"]


class Validator:
    """Checks the ``D`` lines of one file: fast path first, schema for the rest.

    ``fast=False`` sends every line through the schema (tests compare both modes).
    """

    def __init__(self, rt: RecordType, ctx: Context, *, fast: bool = True) -> None:
        self.rt = rt
        self.ctx = ctx
        self.schema = SCHEMAS[rt.name](ctx)
        self.fast = build_fast_check(rt) if fast else None

    def check_fields(self, raw: list[str]) -> tuple[dict[str, Any] | None, FieldErrors]:
        return schema_check(self.schema, raw)
