"""Identifiers we issue to partners: 1–20 of ``A-Z0-9``, unique for ever (bank.md).

A one-letter kind, the UTC second (``YYMMDDHHMMSS``) and 7 random base-36 characters:
sortable by creation for operators, and never repeated in practice (the unique
constraints in the database are the guarantee)."""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ID_RE = re.compile(r"[A-Z0-9]{1,20}")

ORDER_NEW, ORDER_RENEW = "N", "R"
REQUEST_LOSS, REQUEST_CANCEL = "L", "C"


_choice: Callable[[str], str] = secrets.choice


def new_id(kind: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%y%m%d%H%M%S")
    return kind + stamp + "".join(_choice(ALPHABET) for _ in range(7))


def reproducible(seed: int | None) -> None:
    """The demo only: draw the random part from a seeded generator, so a run with the same
    seed issues the same ids (and the sandbox bank, whose choices follow the order ids,
    makes the same choices). ``None`` restores ``secrets``."""
    global _choice
    _choice = secrets.choice if seed is None else random.Random(seed).choice
