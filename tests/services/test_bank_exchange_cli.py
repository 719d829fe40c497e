"""`svcard cards held|release|discard`: an operator lists the held bank events, releases
one (the ones behind it follow) and discards another, each with a recorded note."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

from click.testing import CliRunner
from sqlalchemy import select

from gateway.db import transaction
from gateway.models import HeldEvent
from gateway.partners.bank import events as bev
from gateway.partners.bank import exchange as bx
from schemas.reader import Record
from tests.services.foundation_helpers import first_card, official


def _status(event_id: str, card_id: str, vno: str, event: str, hour: int) -> dict:
    return {"event_id": event_id, "card_id": card_id, "volunteer_no": vno, "event": event,
            "event_time": datetime(2026, 12, 5, hour), "channel": "BRANCH", "new_card_id": None,
            "new_masked_pan": None, "new_expiry": None, "detail": ""}  # fmt: skip


def _feed(session, handler, *records) -> None:
    recs = iter(Record(i, handler.file_type, d) for i, d in enumerate(records, start=2))
    handler.apply(
        session, SimpleNamespace(name=f"{handler.file_type}_BOCSZ_20261205_001.txt.p7m"), None, recs
    )


def test_operator_lists_releases_and_discards_held_events(runtime) -> None:
    from gateway.cli import svcard

    token = "CARD000000000007"
    with transaction(runtime.sessions) as s:
        v = official(s)
        order = first_card(v).order
        vno = v.volunteer_no
        _feed(s, bev.CardResultHandler(), {
            "order_id": order.order_id, "volunteer_no": vno, "result": "ACCEPTED", "reason_code": None,
            "reason_text": "", "card_id": None, "masked_pan": None, "expiry": None,
            "branch_code": order.branch_code, "event_date": date(2026, 12, 4)})  # fmt: skip
        _feed(
            s, bev.CardStatusHandler(),
            _status("S1", token, vno, "COLLECTED", 10), _status("S2", token, vno, "DAMAGED_REPORTED", 11),
            _status("S3", "CARD000000000099", vno, "LOST_REPORTED", 12),
        )  # fmt: skip
        ids = s.scalars(select(HeldEvent.id).order_by(HeldEvent.id)).all()
    runner = CliRunner()
    listed = runner.invoke(svcard, ["cards", "held"])
    assert listed.exit_code == 0, listed.output
    assert (
        f"#{ids[0]}" in listed.stdout and "UNKNOWN_CARD" in listed.stdout and "HELD_BEHIND" in listed.stdout
    )
    assert v.name not in listed.stdout  # no PII

    refused = runner.invoke(svcard, ["cards", "release", str(ids[0]), "--note", "try"])
    assert refused.exit_code == 1 and "UNKNOWN_CARD" in refused.output

    discarded = runner.invoke(svcard, ["cards", "discard", str(ids[2]), "--note", "not our card"])
    assert discarded.exit_code == 0 and f"#{ids[2]} discarded" in discarded.stdout
    assert runner.invoke(svcard, ["cards", "discard", str(ids[2]), "--note", "again"]).exit_code == 1

    # The card becomes known (its PRODUCED arrives); the operator releases the collection.
    with transaction(runtime.sessions) as s:
        order = bx.cards.order_by_id(s, order.order_id)
        _feed(s, bev.CardResultHandler(), {
            "order_id": order.order_id, "volunteer_no": vno, "result": "PRODUCED", "reason_code": None,
            "reason_text": "", "card_id": token, "masked_pan": "621785******0007", "expiry": "203112",
            "branch_code": order.branch_code, "event_date": date(2026, 12, 4)})  # fmt: skip
    released = runner.invoke(svcard, ["cards", "release", str(ids[0]), "--note", "PRODUCED came late"])
    assert released.exit_code == 0, released.output
    assert f"#{ids[0]} released" in released.stdout and f"#{ids[1]} applied after it" in released.stdout
    assert "no held events" in runner.invoke(svcard, ["cards", "held"]).stdout
    with transaction(runtime.sessions) as s:
        notes = {h.id: (h.status, h.note) for h in s.scalars(select(HeldEvent))}
        assert bx.cards.order_by_id(s, order.order_id).card.state == "DAMAGED"
    assert notes[ids[0]] == ("RELEASED", "PRODUCED came late") and notes[ids[2]] == (
        "DISCARDED",
        "not our card",
    )


def test_operator_sends_a_corrected_record_error_again(runtime) -> None:
    from gateway.cli import svcard
    from gateway.models.cards import OrderStatus

    with transaction(runtime.sessions) as s:
        order = first_card(official(s)).order
        order.status, order.record_error = (
            OrderStatus.RECORD_ERROR,
            "line:2:mobile:not a mainland mobile number",
        )
        oid = order.order_id
    runner = CliRunner()
    done = runner.invoke(svcard, ["cards", "resend-order", oid])
    assert done.exit_code == 0 and "PENDING" in done.stdout
    with transaction(runtime.sessions) as s:
        order = bx.cards.order_by_id(s, oid)
        assert order.status == OrderStatus.PENDING and order.record_error is None
        assert oid in [r["order_id"] for r in bx.CardOrderBuilder().collect(s, date(2026, 12, 7)).records]
    assert runner.invoke(svcard, ["cards", "resend-order", "N0NE"]).exit_code == 1


def test_records_not_sent_or_listed_as_record_errors_are_shown_to_operators(runtime) -> None:
    """partners/README.md: a record our writer refuses "stays pending for an operator", and
    one the partner lists as a record error waits for a corrected resend: an operator must
    be able to find them, not only read a log line."""
    from gateway.cli import svcard
    from gateway.domain.lifecycle import CardEventType as E
    from gateway.models.cards import OrderStatus
    from gateway.services import cards
    from gateway.services import transit as ts
    from gateway.services.cards import EventSource
    from tests.services.foundation_helpers import NOW, drive

    with transaction(runtime.sessions) as s:
        refused_order = first_card(official(s)).order
        refused_order.record_error = "20261207 not sent: mobile: not a mainland mobile number"
        bank_error = first_card(official(s)).order
        bank_error.status, bank_error.record_error = OrderStatus.RECORD_ERROR, "line:3:photo:missing"
        v = official(s, opt_transit=True)
        card = first_card(v)
        drive(s, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED)
        loss = cards.request_loss(s, card, source=EventSource(actor="test"), reason="lost", at=NOW)
        loss.outcome = "not sent 20261207: reason: private-use character"
        (treq,) = ts.sync_requests(s)
        ts.mark_refused(treq, "card_id", "16 of A-Z0-9")
        names = [refused_order.order_id, bank_error.order_id, loss.request_id]
        tid, vname = treq.request_id, v.name
    runner = CliRunner()
    out = runner.invoke(svcard, ["cards", "not-sent"])
    assert out.exit_code == 0, out.output
    for ref in names:
        assert ref in out.stdout
    assert "line:3:photo:missing" in out.stdout and "private-use character" in out.stdout
    assert vname not in out.stdout  # no PII
    transit = runner.invoke(svcard, ["transit", "requests"])
    assert tid in transit.stdout and "refused by our writer" in transit.stdout
