"""BOCSZ exchange service on real rows (SQLite and PostgreSQL): what our CARDORDER and
CARDREQ carry, what the bank's ACKs do to them, and CARDRESULT/CARDSTATUS records applied
through the handlers in bank.md's order, with its inferences, resends and held events."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from gateway.domain.errors import Conflict
from gateway.domain.lifecycle import CardState as S
from gateway.models import CardEvent, HeldEvent, Order
from gateway.models.cards import HeldStatus, OrderStatus, RequestStatus
from gateway.models.exchange import ExchangeFile, OutboundItem
from gateway.partners.bank import events as bev
from gateway.partners.bank import exchange as bx
from gateway.services import cards as cs
from gateway.services import volunteers as vs
from gateway.services.channels import AckOutcome
from schemas import writer
from schemas.package import write_package
from schemas.reader import Record
from tests.services.foundation_helpers import NOW, first_card, official, v_cards

FRIDAY, SATURDAY, MONDAY = date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 7)
TOKEN, TOKEN2 = "CARD000000000001", "CARD000000000002"
_files = iter(range(1, 1000))


# ------------------------------------------------------------------ helpers


def put_in_file(db, builder, bdate: date, sent_at: datetime) -> tuple[ExchangeFile, list]:
    """What the engine's prepare does, without sealing or uploading: collect, write (to
    learn the refusals), record the file and its lines, mark the records."""
    batch = builder.collect(db, bdate)
    created = datetime(2026, 12, 1, 1, tzinfo=UTC)
    seq = next(_files)
    kw = dict(sender="SVA", receiver="BOCSZ", business_date=bdate, seq=seq, created_time=created)
    if builder.ext == "zip":
        result = write_package(io.BytesIO(), batch.records, batch.photos, **kw)
    else:
        _, result = writer.write_bytes(builder.file_type, batch.records, **kw)
    bad = {r.index for r in result.refused}
    written = [ref for i, ref in enumerate(batch.refs) if i not in bad]
    refusals = [bx.Refusal(*batch.refs[r.index], r.field, r.reason) for r in result.refused]
    name = writer.file_name(builder.file_type, "SVA", bdate, seq, builder.ext) + ".p7m"
    row = ExchangeFile(
        partner="BOCSZ", direction="out", file_type=builder.file_type, name=name, business_date=bdate,
        seq=seq, status="sent", sent_at=sent_at, identity=f"out|{name}",
    )  # fmt: skip
    db.add(row)
    db.flush()
    for line, (kind, ref) in enumerate(written, start=2):
        db.add(OutboundItem(file_id=row.id, line=line, kind=kind, ref=ref))
    builder.mark_in_file(db, row, written, refusals)
    db.flush()
    return row, written


def ack(db, builder, file, status: str, code: str | None = None, errors: dict | None = None) -> None:
    builder.on_ack(db, file, AckOutcome(status, code, None, date(2026, 12, 2), errors or {}))
    db.flush()


def result(order: Order, res: str, day: date, card_id: str = TOKEN, **extra) -> dict:
    made = res in ("PRODUCED", "NOTIFIED")
    data = {
        "order_id": order.order_id, "volunteer_no": order.volunteer.volunteer_no, "result": res,
        "reason_code": None, "reason_text": "", "card_id": card_id if made else None,
        "masked_pan": "621785******0123" if made else None, "expiry": "203111" if made else None,
        "branch_code": order.branch_code, "event_date": day,
    }  # fmt: skip
    data.update(extra)
    return data


_events = iter(range(1, 10**6))


def status(card_id: str, volunteer_no: str, event: str, when: datetime, **extra) -> dict:
    data = {
        "event_id": f"EV{next(_events):08d}", "card_id": card_id, "volunteer_no": volunteer_no,
        "event": event, "event_time": when, "channel": "BRANCH", "new_card_id": None,
        "new_masked_pan": None, "new_expiry": None, "detail": "",
    }  # fmt: skip
    data.update(extra)
    return data


def feed(db, handler, *records: dict) -> None:
    name = f"{handler.file_type}_BOCSZ_20261207_{next(_files):03d}.txt.p7m"
    recs = iter(Record(i, handler.file_type, d) for i, d in enumerate(records, start=2))
    handler.apply(db, SimpleNamespace(name=name), None, recs)
    db.flush()


RESULTS, STATUSES = bev.CardResultHandler(), bev.CardStatusHandler()
ORDERS, REQUESTS = bx.CardOrderBuilder(), bx.CardReqBuilder()


def made(db, **changes):
    """An official volunteer whose card was PRODUCED (card_id TOKEN)."""
    v = official(db, **changes)
    order = first_card(v).order
    feed(db, RESULTS, result(order, "ACCEPTED", FRIDAY), result(order, "PRODUCED", FRIDAY))
    return v, order, order.card


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour)  # Beijing wall time, as on the wire


def held(db) -> list[HeldEvent]:
    return list(
        db.scalars(select(HeldEvent).where(HeldEvent.status == HeldStatus.HELD).order_by(HeldEvent.id))
    )


# ------------------------------------------------------------------ CARDORDER


def test_cardorder_carries_pending_orders_with_decrypted_fields_and_photo(db) -> None:
    v = official(db)
    batch = ORDERS.collect(db, MONDAY)
    (rec,) = [r for r in batch.records if r["volunteer_no"] == v.volunteer_no]
    assert rec["order_type"] == "NEW" and rec["replaces_card_id"] is None
    assert rec["name"] == "张伟" and rec["id_number"] == v.id_number and rec["mobile"] == "13812345678"
    assert rec["photo"] == f"photos/{rec['order_id']}.jpg" and batch.photos[rec["order_id"]] == v.photo
    file, written = put_in_file(db, ORDERS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    order = first_card(v).order
    assert ("order", order.order_id) in written
    assert order.status == OrderStatus.SENT and order.sent_file == file.name


def test_cardorder_goes_on_working_days_only_cardreq_every_day(db) -> None:
    official(db)
    assert ORDERS.due_on(db, MONDAY) and not ORDERS.due_on(db, SATURDAY)
    assert ORDERS.collect(db, MONDAY).records and ORDERS.collect(db, SATURDAY).records == []
    assert REQUESTS.due_on(db, SATURDAY)


def test_refused_order_stays_pending_with_the_refusal_visible_and_is_retried_next_day(db) -> None:
    v = official(db)
    v.photo = None  # the package writer refuses a record without its photo
    order = first_card(v).order
    put_in_file(db, ORDERS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    assert order.status == OrderStatus.PENDING and "photo" in order.record_error
    # A rerun the same day does not send the same refusal again (no empty SEQ for it) ...
    assert order.order_id not in [r["order_id"] for r in ORDERS.collect(db, MONDAY).records]
    # ... the next day's file tries it again.
    assert order.order_id in [r["order_id"] for r in ORDERS.collect(db, date(2026, 12, 8)).records]


def test_accepted_ack_sets_day0_to_the_beijing_date_of_the_upload(db) -> None:
    v = official(db)
    order = first_card(v).order
    # 17:30 UTC on 30 November is 01:30 on 1 December in Beijing.
    file, _ = put_in_file(db, ORDERS, date(2026, 12, 1), datetime(2026, 11, 30, 17, 30, tzinfo=UTC))
    ack(db, ORDERS, file, "ACCEPTED")
    assert order.status == OrderStatus.ACKED and order.day0 == date(2026, 12, 1)
    assert order.produced_due == date(2026, 12, 22) and order.notified_due == date(2026, 12, 29)


def test_partial_ack_closes_the_listed_record_as_rejected_and_a_corrected_resend_keeps_its_id(db) -> None:
    a, b = official(db), official(db, born=date(1992, 3, 4))
    oa, ob = first_card(a).order, first_card(b).order
    file, written = put_in_file(db, ORDERS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    line_b = 2 + written.index(("order", ob.order_id))
    errs = {("order", ob.order_id): [f"line:{line_b}:mobile:not a mainland mobile number"]}
    ack(db, ORDERS, file, "PARTIAL", "E07", errs)
    assert oa.status == OrderStatus.ACKED and oa.day0 == MONDAY
    assert ob.status == OrderStatus.RECORD_ERROR and ob.day0 is None and ob.produced_due is None
    assert "mobile" in ob.record_error
    assert ob.order_id not in [r["order_id"] for r in ORDERS.collect(db, date(2026, 12, 8)).records]
    bx.resend_order(db, ob.order_id, actor="op")
    assert ob.order_id in [r["order_id"] for r in ORDERS.collect(db, date(2026, 12, 8)).records]


def test_rejected_file_sends_the_same_ids_again_in_the_next_seq(db) -> None:
    v = official(db)
    order = first_card(v).order
    first, _ = put_in_file(db, ORDERS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    ack(db, ORDERS, first, "REJECTED", "E02")
    assert order.status == OrderStatus.PENDING and order.day0 is None
    second, written = put_in_file(db, ORDERS, MONDAY, datetime(2026, 12, 7, 3, tzinfo=UTC))
    assert second.seq > first.seq and ("order", order.order_id) in written
    assert order.sent_file == second.name
    ack(db, ORDERS, second, "ACCEPTED")
    assert order.day0 == MONDAY


def test_renew_order_names_the_card_it_replaces(db) -> None:
    v, order, card = made(db)
    feed(db, RESULTS, result(order, "NOTIFIED", FRIDAY))
    feed(db, STATUSES, status(TOKEN, v.volunteer_no, "COLLECTED", at(SATURDAY, 10)))
    feed(db, STATUSES, status(TOKEN, v.volunteer_no, "EXPIRING", at(SATURDAY, 11)))
    renew = [r for r in ORDERS.collect(db, MONDAY).records if r["volunteer_no"] == v.volunteer_no]
    assert [(r["order_type"], r["replaces_card_id"]) for r in renew] == [("RENEW", TOKEN)]


# ------------------------------------------------------------------ CARDREQ


def test_cancel_order_is_sent_only_once_the_bank_acknowledged_the_order(db) -> None:
    v = official(db)
    order = first_card(v).order
    file, _ = put_in_file(db, ORDERS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    req = cs.cancel_order(db, order, source=cs.EventSource(actor="test"), reason="changed mind", at=NOW)
    assert req is not None and req.status == RequestStatus.PENDING
    assert req.request_id not in [r["request_id"] for r in REQUESTS.collect(db, MONDAY).records]
    ack(db, ORDERS, file, "ACCEPTED")
    (rec,) = [r for r in REQUESTS.collect(db, MONDAY).records if r["request_id"] == req.request_id]
    assert (
        rec["request_type"] == "CANCEL_ORDER" and rec["order_id"] == order.order_id and rec["card_id"] is None
    )
    put_in_file(db, REQUESTS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    assert req.status == RequestStatus.SENT
    feed(db, RESULTS, result(order, "REJECTED", MONDAY, reason_code="R07", reason_text="cancelled"))
    assert req.status == RequestStatus.CLOSED and order.card.state == S.CANCELLED


def test_a_cancel_order_the_bank_lists_as_a_record_error_is_an_alert(db) -> None:
    """The bank goes on making the card: an operator must know the cancellation did not
    reach it (e.g. a deregistered volunteer's order, bank.md 7)."""
    from gateway.models import Alert

    order = first_card(official(db)).order
    file, _ = put_in_file(db, ORDERS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    req = cs.cancel_order(db, order, source=cs.EventSource(actor="test"), reason="changed mind", at=NOW)
    ack(db, ORDERS, file, "ACCEPTED")
    reqfile, written = put_in_file(db, REQUESTS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    line = 2 + written.index(("card_request", req.request_id))
    ack(
        db,
        REQUESTS,
        reqfile,
        "PARTIAL",
        "E07",
        {("card_request", req.request_id): [f"line:{line}:reason:bad"]},
    )
    assert req.status == RequestStatus.CLOSED
    alert = db.scalar(select(Alert).where(Alert.kind == "cancel_order_rejected"))
    assert req.request_id in alert.message and order.order_id in alert.message


def test_cancel_waiting_for_an_order_whose_file_was_rejected_withdraws_both(db) -> None:
    v = official(db)
    order = first_card(v).order
    file, _ = put_in_file(db, ORDERS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    req = cs.cancel_order(db, order, source=cs.EventSource(actor="test"), reason="changed mind", at=NOW)
    ack(db, ORDERS, file, "REJECTED", "E04")
    assert req.status == RequestStatus.WITHDRAWN and order.card.state == S.CANCELLED
    assert order.order_id not in [r["order_id"] for r in ORDERS.collect(db, MONDAY).records]


def test_loss_report_goes_out_and_is_closed_by_lost_reported_after_it(db) -> None:
    v, order, card = made(db)
    feed(db, RESULTS, result(order, "NOTIFIED", FRIDAY))
    req = cs.request_loss(db, card, source=cs.EventSource(actor="test"), reason="lost", at=NOW)
    (rec,) = [r for r in REQUESTS.collect(db, MONDAY).records if r["request_id"] == req.request_id]
    assert rec["card_id"] == TOKEN and rec["order_id"] is None
    assert rec["request_time"].utcoffset().total_seconds() == 8 * 3600
    put_in_file(db, REQUESTS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    feed(db, STATUSES, status(TOKEN, v.volunteer_no, "LOST_REPORTED", at(MONDAY, 9), channel="HOTLINE"))
    assert req.status == RequestStatus.CLOSED and card.state == S.LOST


def test_card_request_listed_in_a_partial_ack_is_closed_as_rejected(db) -> None:
    v, order, card = made(db)
    req = cs.request_loss(db, card, source=cs.EventSource(actor="test"), reason="lost", at=NOW)
    file, written = put_in_file(db, REQUESTS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    line = 2 + written.index(("card_request", req.request_id))
    ack(
        db,
        REQUESTS,
        file,
        "PARTIAL",
        "E07",
        {("card_request", req.request_id): [f"line:{line}:card_id:unknown"]},
    )
    assert req.status == RequestStatus.CLOSED and req.outcome.startswith("rejected")


def test_a_loss_report_the_bank_listed_as_a_record_error_no_longer_shows_as_requested(db) -> None:
    """The bank never froze the card: SVA must not go on showing "loss requested" (bank.md
    CARDREQ), and an operator must get the volunteer to call 95566."""
    from gateway.models import Alert

    v, order, card = made(db)
    feed(db, RESULTS, result(order, "NOTIFIED", FRIDAY))
    req = cs.request_loss(db, card, source=cs.EventSource(actor="test"), reason="lost", at=NOW)
    assert card.loss_requested_at is not None
    file, written = put_in_file(db, REQUESTS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    line = 2 + written.index(("card_request", req.request_id))
    ack(db, REQUESTS, file, "PARTIAL", "E07", {("card_request", req.request_id): [f"line:{line}:reason:bad"]})
    assert card.loss_requested_at is None
    alert = db.scalar(select(Alert).where(Alert.kind == "loss_report_rejected"))
    assert req.request_id in alert.message and "95566" in alert.message


# ------------------------------------------------------------------ CARDRESULT / CARDSTATUS


def test_results_in_one_file_are_applied_in_event_order_whatever_the_line_order(db) -> None:
    v = official(db)
    order = first_card(v).order
    feed(
        db, RESULTS,
        result(order, "NOTIFIED", MONDAY), result(order, "PRODUCED", FRIDAY), result(order, "ACCEPTED", FRIDAY),
    )  # fmt: skip
    card = order.card
    assert card.state == S.NOTIFIED and card.card_id == TOKEN and not held(db)
    assert (order.accepted_on, order.produced_on, order.notified_on) == (FRIDAY, FRIDAY, MONDAY)


def test_friday_notified_saturday_collected_is_inferred_then_completed(db) -> None:
    v, order, card = made(db)
    # Saturday's CARDSTATUS arrives before Friday's NOTIFIED (CARDRESULT: working days only).
    feed(db, STATUSES, status(TOKEN, v.volunteer_no, "COLLECTED", at(SATURDAY, 10)))
    assert card.state == S.IN_USE and card.notified_inferred
    inferred = db.scalar(select(CardEvent).where(CardEvent.card_pk == card.id, CardEvent.event == "NOTIFIED"))
    assert inferred.inferred
    feed(db, RESULTS, result(order, "NOTIFIED", FRIDAY))
    assert card.state == S.IN_USE and not card.notified_inferred and card.notified_on == FRIDAY
    assert card.pickup_deadline == date(2027, 6, 4)
    own = db.scalar(select(CardEvent).where(CardEvent.completes_pk == inferred.id))
    assert own is not None and not own.inferred and not held(db)


def test_identical_result_resent_changes_nothing_and_a_different_one_is_held(db) -> None:
    v, order, card = made(db)
    events = db.scalar(select(CardEvent.id).order_by(CardEvent.id.desc()).limit(1))
    feed(db, RESULTS, result(order, "PRODUCED", FRIDAY))
    assert db.scalar(select(CardEvent.id).order_by(CardEvent.id.desc()).limit(1)) == events and not held(db)
    feed(db, RESULTS, result(order, "PRODUCED", FRIDAY, masked_pan="621785******9999"))
    (h,) = held(db)
    assert h.reason_code == "RESEND_DIFFERS" and h.card_pk == card.id and card.state == S.PRODUCED


def test_status_event_id_seen_before_changes_nothing(db) -> None:
    v, order, card = made(db)
    rec = status(TOKEN, v.volunteer_no, "COLLECTED", at(SATURDAY, 10))
    feed(db, STATUSES, rec)
    n = db.scalar(select(CardEvent.id).order_by(CardEvent.id.desc()).limit(1))
    feed(db, STATUSES, rec)
    assert db.scalar(select(CardEvent.id).order_by(CardEvent.id.desc()).limit(1)) == n and not held(db)


def test_event_that_makes_no_sense_is_held_and_later_events_wait_behind_it(db) -> None:
    v, order, card = made(db)
    feed(db, STATUSES, status(TOKEN, v.volunteer_no, "CUT_CLOSED", at(SATURDAY, 9)))
    assert card.state == S.CUT_CLOSED
    feed(
        db, STATUSES,
        status(TOKEN, v.volunteer_no, "COLLECTED", at(SATURDAY, 10)),
        status(TOKEN, v.volunteer_no, "PICKUP_REMINDER", at(SATURDAY, 11)),
    )  # fmt: skip
    first, behind = held(db)
    assert first.event == "COLLECTED" and first.reason_code == "CARD_DEAD"
    assert behind.event == "PICKUP_REMINDER" and behind.reason_code == "HELD_BEHIND"
    assert card.state == S.CUT_CLOSED
    # Releasing an event that still does not fit is refused and changes nothing.
    with pytest.raises(Conflict) as info:
        bev.release(db, first.id, actor="op", note="try")
    assert info.value.code == "CARD_DEAD" and first.status == HeldStatus.HELD
    with pytest.raises(Conflict):
        bev.release(db, behind.id, actor="op", note="out of order")  # held behind #first
    # Discarding the first lets the next one be tried: it still does not fit, and now
    # holds with its own reason.
    bev.discard(db, first.id, actor="op", note="bank error, confirmed by phone")
    assert first.status == HeldStatus.DISCARDED and first.resolved_by == "op"
    (still,) = held(db)
    assert still.id == behind.id and still.reason_code == "CARD_DEAD"


def test_release_applies_the_held_event_then_the_ones_behind_it(db) -> None:
    v = official(db)
    order = first_card(v).order
    feed(db, RESULTS, result(order, "ACCEPTED", FRIDAY))
    # The bank reports a collection and a loss for a card SVA has not heard made yet.
    feed(
        db, STATUSES,
        status(TOKEN, v.volunteer_no, "COLLECTED", at(SATURDAY, 10)),
        status(TOKEN, v.volunteer_no, "LOST_REPORTED", at(SATURDAY, 18)),
    )  # fmt: skip
    first, behind = held(db)
    assert (first.reason_code, behind.reason_code) == ("UNKNOWN_CARD", "HELD_BEHIND")
    # Its PRODUCED comes (it happened before): applied, not held.
    feed(db, RESULTS, result(order, "PRODUCED", FRIDAY))
    card = order.card
    assert card.state == S.PRODUCED and len(held(db)) == 2
    released = bev.release(db, first.id, actor="op", note="PRODUCED arrived late")
    assert [h.id for h in released] == [first.id, behind.id] and not held(db)
    assert card.state == S.LOST and card.notified_inferred
    events = [
        e.event
        for e in db.scalars(select(CardEvent).where(CardEvent.card_pk == card.id).order_by(CardEvent.id))
    ]
    assert events[-3:] == ["NOTIFIED", "COLLECTED", "LOST_REPORTED"]


def test_unknown_order_is_held_for_an_operator_and_the_file_still_applies(db) -> None:
    v = official(db)
    order = first_card(v).order
    ghost = SimpleNamespace(order_id="N99999", volunteer=v, branch_code="44001")
    feed(db, RESULTS, result(ghost, "ACCEPTED", FRIDAY), result(order, "ACCEPTED", FRIDAY))
    (h,) = held(db)
    assert h.reason_code == "UNKNOWN_ORDER" and h.card_pk is None
    assert order.card.state == S.ACCEPTED


def test_reissued_brings_a_new_card_that_is_collected_later(db) -> None:
    v, order, card = made(db)
    feed(db, RESULTS, result(order, "NOTIFIED", FRIDAY))
    feed(
        db, STATUSES,
        status(TOKEN, v.volunteer_no, "COLLECTED", at(SATURDAY, 10)),
        status(TOKEN, v.volunteer_no, "DAMAGED_REPORTED", at(SATURDAY, 12)),
        status(TOKEN, v.volunteer_no, "REISSUED", at(SATURDAY, 15), new_card_id=TOKEN2,
               new_masked_pan="621785******0456", new_expiry="203112"),
    )  # fmt: skip
    assert card.state == S.REISSUED
    new = cs.card_by_token(db, TOKEN2)
    assert new is not None and new.state == S.NOTIFIED and new.replaces_pk == card.id
    assert new.notified_on == SATURDAY and new.volunteer_id == v.id
    feed(db, STATUSES, status(TOKEN2, v.volunteer_no, "COLLECTED", at(MONDAY, 10)))
    assert new.state == S.IN_USE and not held(db)


def test_expiring_orders_one_renewal_only(db) -> None:
    v, order, card = made(db)
    feed(db, RESULTS, result(order, "NOTIFIED", FRIDAY))
    feed(
        db, STATUSES,
        status(TOKEN, v.volunteer_no, "COLLECTED", at(SATURDAY, 10)),
        status(TOKEN, v.volunteer_no, "EXPIRING", at(SATURDAY, 11)),
    )  # fmt: skip
    feed(db, STATUSES, status(TOKEN, v.volunteer_no, "EXPIRING", at(MONDAY, 11)))
    renewals = [c for c in v_cards(v) if c.order is not None and c.order.order_type == "RENEW"]
    assert len(renewals) == 1 and renewals[0].order.status == OrderStatus.PENDING
    assert renewals[0].replaces_pk == card.id and not held(db)


def test_expiring_for_a_deregistered_volunteer_orders_nothing(db) -> None:
    v, order, card = made(db)
    feed(db, RESULTS, result(order, "NOTIFIED", FRIDAY))
    feed(db, STATUSES, status(TOKEN, v.volunteer_no, "COLLECTED", at(SATURDAY, 10)))
    vs.deregister(db, v.volunteer_no, at=datetime(2026, 12, 6, 2, tzinfo=UTC), actor="test")
    feed(db, STATUSES, status(TOKEN, v.volunteer_no, "EXPIRING", at(MONDAY, 11)))
    assert [c for c in v_cards(v) if c.order is not None and c.order.order_type == "RENEW"] == []


def test_cancel_order_answered_by_produced_is_closed_too_late(db) -> None:
    v = official(db)
    order = first_card(v).order
    file, _ = put_in_file(db, ORDERS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    ack(db, ORDERS, file, "ACCEPTED")
    req = cs.cancel_order(db, order, source=cs.EventSource(actor="test"), reason="changed", at=NOW)
    put_in_file(db, REQUESTS, MONDAY, datetime(2026, 12, 7, 1, tzinfo=UTC))
    feed(db, RESULTS, result(order, "PRODUCED", MONDAY))
    assert req.status == RequestStatus.TOO_LATE and order.card.state == S.PRODUCED


def test_expiring_that_cannot_renew_is_shown_to_operators(db) -> None:
    from gateway.models.exchange import Alert

    v, order, card = made(db, carrier="CREDIT")
    feed(db, RESULTS, result(order, "NOTIFIED", FRIDAY))
    feed(db, STATUSES, status(TOKEN, v.volunteer_no, "CUT_CLOSED", at(SATURDAY, 1)))
    debit = cs.place_order(db, v, source=cs.EventSource(actor="op"), carrier="DEBIT", by_operator=True,
                           reason="credit card cut, debit agreed")  # fmt: skip
    feed(
        db,
        RESULTS,
        result(debit, "PRODUCED", MONDAY, card_id=TOKEN2),
        result(debit, "NOTIFIED", MONDAY, card_id=TOKEN2),
    )
    feed(db, STATUSES, status(TOKEN2, v.volunteer_no, "COLLECTED", at(MONDAY, 15)))
    feed(db, STATUSES, status(TOKEN2, v.volunteer_no, "EXPIRING", at(MONDAY, 16)))
    alerts = db.scalars(select(Alert).where(Alert.kind == "card_event_note")).all()
    assert len(alerts) == 1 and "CREDIT_CUT_CLOSED" in alerts[0].message and TOKEN2 in alerts[0].message
    assert not held(db)


def test_rejected_result_closes_the_order_with_its_reason(db) -> None:
    v = official(db)
    order = first_card(v).order
    feed(db, RESULTS, result(order, "REJECTED", FRIDAY, reason_code="R02", reason_text="照片模糊"))
    assert order.card.state == S.REJECTED and order.status == OrderStatus.CLOSED
    assert (order.reject_code, order.reject_text) == ("R02", "照片模糊")


def test_a_record_for_another_volunteer_or_a_token_already_used_is_held(db) -> None:
    a, order_a, card_a = made(db)
    b = official(db, born=date(1993, 7, 8))
    order_b = first_card(b).order
    wrong_vno = result(order_b, "ACCEPTED", FRIDAY, volunteer_no=a.volunteer_no)
    token_taken = result(order_b, "PRODUCED", MONDAY, card_id=TOKEN)  # TOKEN is a's card
    feed(db, RESULTS, wrong_vno)
    feed(db, RESULTS, token_taken)
    first, second = held(db)
    assert first.reason_code == "VOLUNTEER_MISMATCH" and second.reason_code == "HELD_BEHIND"
    bev.discard(db, first.id, actor="op", note="bank mixed up two volunteers")
    (still,) = held(db)
    assert still.reason_code == "CARD_ID_IN_USE" and order_b.card.state == S.ORDERED
    assert card_a.card_id == TOKEN and order_b.card.card_id is None
