"""Cursor pagination: ``?limit=&cursor=`` in, ``{"items": [...], "next_cursor": ...}`` out.

A cursor is opaque to clients (base64url of JSON); it names the endpoint it belongs to and
the sort key of the last item served, so pages stay stable while rows are added, and a
cursor of another list is refused with a 422 naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from flask import request
from sqlalchemy import ColumnElement, Select, tuple_
from sqlalchemy.orm import Session

from gateway.api.problems import Problem


def _norm(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps({"e": request.endpoint, "k": [_norm(v) for v in key]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if data["e"] != request.endpoint or not isinstance(data["k"], list):
            raise ValueError
        return data["k"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Problem(
            422,
            "validation-error",
            "The request is not valid",
            "cursor: not a cursor of this list",
            errors={"cursor": ["not a cursor of this list"]},
        ) from None


def page_query(
    session: Session,
    stmt: Select,
    keys: Sequence[ColumnElement],
    args: dict[str, Any],
    key_of: Callable[[Any], Sequence[Any]],
    *,
    descending: bool = False,
) -> dict[str, Any]:
    """One page of ``stmt`` (rows or scalars) in ``keys`` order, ascending unless
    ``descending`` (keyset paging). ``key_of(item)`` gives an item's key values, ints and
    strings only."""
    limit: int = args["limit"]
    after = decode_cursor(args.get("cursor"))
    if after is not None:
        if len(after) != len(keys):
            decode_cursor("")  # raises the cursor problem
        left, right = (tuple_(*keys), tuple_(*after)) if len(keys) > 1 else (keys[0], after[0])
        stmt = stmt.where(left < right if descending else left > right)
    order = [k.desc() for k in keys] if descending else list(keys)
    items = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    return _page(items, limit, key_of)


def page_list(
    items: Iterable[Any], args: dict[str, Any], key_of: Callable[[Any], Sequence[Any]]
) -> dict[str, Any]:
    """One page of an in-memory list (a bounded result of a service), sorted by ``key_of``."""
    limit: int = args["limit"]
    after = decode_cursor(args.get("cursor"))

    def norm_key(item: Any) -> list[Any]:
        return [_norm(v) for v in key_of(item)]

    ordered = sorted(items, key=norm_key)
    if after is not None:
        try:
            ordered = [i for i in ordered if norm_key(i) > after]
        except TypeError:
            decode_cursor("")
    return _page(ordered[: limit + 1], limit, key_of)


def _page(items: list[Any], limit: int, key_of: Callable[[Any], Sequence[Any]]) -> dict[str, Any]:
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor(key_of(items[-1])) if more and items else None}
