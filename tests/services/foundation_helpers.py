"""Helpers for the foundation's service tests: volunteers and cards in a given state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from gateway.domain.lifecycle import CardEventType as E
from gateway.models import Card, Volunteer
from gateway.services import cards as cs
from gateway.services import volunteers as vs
from gateway.services.sample import jpeg, ric

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 Beijing
SRC = cs.EventSource(actor="test", source_file="CARDSTATUS_BOCSZ_20261128_001.txt", source_line=2)
_seq = iter(range(1, 10**6))


def application(born: date = date(1990, 5, 17), gender: str = "M", **changes) -> vs.ApplicationData:
    n = next(_seq)
    data = vs.ApplicationData(
        name="张伟", id_type="RIC", id_number=ric("440309", born, 2 * n + (gender == "M"), gender), gender=gender,
        birth_date=born,
        mobile="13812345678", address="深圳市深南大道1号", emergency_name="李娜", emergency_mobile="13912345678",
        carrier="DEBIT", branch_code="44001", opt_transit=True, opt_health=True, photo=jpeg(),
    )  # fmt: skip
    return replace(data, **changes)


def official(session, **changes) -> Volunteer:
    """An approved volunteer with a PENDING NEW order."""
    v = vs.create_application(session, application(**changes), actor="test", now=NOW)
    vs.record_training(session, v.provisional_no, course="basic", minutes=120, actor="test")
    vs.check_in(session, v.provisional_no, at=datetime(2026, 11, 1, 1, tzinfo=UTC), actor="test")
    vs.check_out(session, v.provisional_no, at=datetime(2026, 11, 1, 11, tzinfo=UTC), actor="test")
    return vs.approve(session, v.provisional_no, actor="test", now=NOW)


def first_card(v: Volunteer) -> Card:
    return sorted(v_cards(v), key=lambda c: c.id)[0]


def v_cards(v: Volunteer) -> list[Card]:
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    return list(object_session(v).scalars(select(Card).where(Card.volunteer_id == v.id)))


def drive(session, card: Card, *events: E, card_id: str = "CARD000000000001", when: datetime = NOW) -> None:
    """Apply events in order with plausible payloads."""
    for e in events:
        payload = {}
        if e in (E.PRODUCED, E.NOTIFIED):
            payload = {
                "card_id": card_id,
                "masked_pan": "621785******0123",
                "expiry": "203111",
                "branch_code": card.branch_code,
            }
        cs.apply_event(session, card, e, event_time=when, source=SRC, payload=payload)


def functions(card: Card) -> dict[str, str]:
    return {f.function: f.state for f in card.functions}


# ------------------------------------------------------------------ a shared, migrated database
# Migrating a database per test costs ~0.5 s (SQLite) to ~1 s (PostgreSQL); these tests
# share one migrated database per module and backend, and each test runs in a transaction
# that is rolled back.
