"""Identifiers we issue to partners: 1–20 of ``A-Z0-9``, unique for ever (bank.md).

A one-letter kind, the UTC second (``YYMMDDHHMMSS``) and 7 random base-36 characters:
sortable by creation for operators, and never repeated in practice (the unique
constraints in the database are the guarantee)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ID_RE = re.compile(r"[A-Z0-9]{1,20}")

ORDER_NEW, ORDER_RENEW = "N", "R"
REQUEST_LOSS, REQUEST_CANCEL = "L", "C"


def new_id(kind: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%y%m%d%H%M%S")
    return kind + stamp + "".join(secrets.choice(ALPHABET) for _ in range(7))
