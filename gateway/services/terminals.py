"""The registry of the platform's POS terminals: register, change, deactivate, read.

A terminal names its organisation and its district (a code of ``gateway.domain.places``,
given as the code or the name); a site name and coordinates are optional. Terminals are
never deleted: sessions name them, so one taken out of service is deactivated, and a
swipe at it is refused (``TERMINAL_INACTIVE``). The CSV load is
``gateway.services.terminal_import``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain import places
from gateway.domain.errors import Conflict, Invalid, Problem
from gateway.domain.service_rules import TerminalInactive, TerminalNotFound
from gateway.models import Terminal

# Upper-case letters, digits and hyphens: the id printed on the terminal's label.
TERMINAL_ID_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,19}")
LENGTHS = {"organisation": 100, "site_name": 100}
FIELDS = ("organisation", "district", "site_name", "latitude", "longitude", "active")


@dataclass
class TerminalData:
    terminal_id: str
    organisation: str
    district: str  # a code or a name of gateway.domain.places
    site_name: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    active: bool = True


def problems(data: TerminalData) -> list[Problem]:
    """Every broken rule of a terminal's data, by field (the API and the CSV load share
    them). ``data.district`` is replaced by its code when it is a known district."""
    out: list[Problem] = []
    if not TERMINAL_ID_RE.fullmatch(data.terminal_id or ""):
        out.append(Problem("terminal_id", "TERMINAL_ID", "1-20 upper-case letters, digits or hyphens"))
    for name, most in LENGTHS.items():
        value = getattr(data, name)
        if (value is not None or name == "organisation") and not 1 <= len((value or "").strip()) <= most:
            out.append(Problem(name, "FIELD_LENGTH", f"must be 1 to {most} characters"))
    found = places.district(data.district or "")
    if found is None:
        out.append(
            Problem("district", "UNKNOWN_DISTRICT", "not a Shenzhen district code or name, nor OUTSIDE")
        )
    else:
        data.district = found.code
        lat = None if data.latitude is None else float(data.latitude)
        lon = None if data.longitude is None else float(data.longitude)
        if bad := places.coordinates_problem(found.code, lat, lon):
            out.append(Problem(bad[0], "COORDINATES", bad[1]))
    return out


def _refuse(found: list[Problem]) -> None:
    """A refusal coded by the first broken rule (``UNKNOWN_DISTRICT``, ``COORDINATES``, ...)
    and naming its field; the message lists them all."""
    if found:
        first = found[0]
        raise Invalid(first.rule, "; ".join(f"{p.field}: {p.message}" for p in found), first.field)


def find(session: Session, terminal_id: str) -> Terminal | None:
    return session.scalar(select(Terminal).where(Terminal.terminal_id == terminal_id))


def get_terminal(session: Session, terminal_id: str) -> Terminal:
    terminal = find(session, terminal_id)
    if terminal is None:
        raise TerminalNotFound("no terminal with this id")
    return terminal


def usable_terminal(session: Session, terminal_id: str) -> Terminal:
    """The terminal a swipe came from: registered and active."""
    terminal = get_terminal(session, terminal_id)
    if not terminal.active:
        raise TerminalInactive("the terminal is deactivated")
    return terminal


def create_terminal(session: Session, data: TerminalData, *, actor: str) -> Terminal:
    """Register a terminal (``TERMINAL_EXISTS`` if its id is taken)."""
    _refuse(problems(data))
    if find(session, data.terminal_id) is not None:
        raise Conflict("TERMINAL_EXISTS", "a terminal with this id is registered", "terminal_id")
    terminal = Terminal(terminal_id=data.terminal_id, source=f"api:{actor}"[:120])
    apply(terminal, data)
    session.add(terminal)
    session.flush()
    return terminal


def update_terminal(session: Session, terminal_id: str, changes: dict[str, Any], *, actor: str) -> Terminal:
    """Change any of ``FIELDS``; the rules are checked on the result. Sessions already
    recorded keep the place they were recorded at."""
    terminal = get_terminal(session, terminal_id)
    data = data_of(terminal)
    for name in FIELDS:
        if name in changes:
            setattr(data, name, changes[name])
    _refuse(problems(data))
    apply(terminal, data)
    session.flush()
    return terminal


def data_of(terminal: Terminal) -> TerminalData:
    return TerminalData(terminal.terminal_id, **{name: getattr(terminal, name) for name in FIELDS})


def apply(terminal: Terminal, data: TerminalData) -> bool:
    """Set the terminal's fields from checked ``data``; whether anything changed."""
    changed = False
    for name in FIELDS:
        value = getattr(data, name)
        if isinstance(value, str):
            value = value.strip()
        if name in ("latitude", "longitude") and value is not None:
            value = Decimal(value).quantize(Decimal("0.000001"))
        if getattr(terminal, name) != value:
            setattr(terminal, name, value)
            changed = True
    return changed
