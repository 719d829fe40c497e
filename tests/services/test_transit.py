"""Shenzhen Tong rules (transit.md), each test named after the rule it checks, on real
rows (SQLite and PostgreSQL): requests derived from the TRANSIT function state when the
TRANSITREQ is written, and TRANSITACK answers applied exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from sqlalchemy import select

from gateway.domain.lifecycle import CardEventType as E
from gateway.models.transit import TransitRequest
from gateway.partners.transit.exchange import TransitAckHandler, TransitReqBuilder
from gateway.services import transit as ts
from gateway.services import volunteers as vs
from gateway.services.channels import AckOutcome
from schemas.reader import Record
from tests.services.foundation_helpers import NOW, drive, first_card, functions, official

DAY = date(2026, 12, 7)
BUILDER, ACKS = TransitReqBuilder(), TransitAckHandler()


def collected(db, **changes):
    v = official(db, **changes)
    card = first_card(v)
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED)
    return v, card


def send(db) -> list[TransitRequest]:
    """What the builder puts in today's TRANSITREQ, marked sent."""
    batch = BUILDER.collect(db, DAY)
    rows = {r.request_id: r for r in db.scalars(select(TransitRequest))}
    file = SimpleNamespace(name="TRANSITREQ_SVA_20261207_001.txt.p7m", business_date=DAY)
    BUILDER.mark_in_file(db, file, batch.refs, [])
    db.flush()
    return [rows[ref] for _, ref in batch.refs]


SOME_ACCOUNT = "310000000001"
_DEFAULT = object()


def sent_enable(db):
    """A volunteer opted in to transit whose card is collected, and the ENABLE request
    that went to SZT for it: (volunteer, card, request)."""
    v, card = collected(db, opt_transit=True)
    (enable,) = send(db)
    return v, card, enable


def answer(db, req: TransitRequest, result: str = "OK", code: str | None = None, account=_DEFAULT):
    """SZT's answer to ``req``; an OK to an ENABLE carries an account unless one is given
    (transit.md field 4). The handler's record errors."""
    if account is _DEFAULT:
        account = SOME_ACCOUNT if (result, req.action) == ("OK", "ENABLE") else None
    data = {"request_id": req.request_id, "result": result, "reason_code": code,
            "transit_account_no": account, "processed_date": DAY}  # fmt: skip
    errors = ACKS.apply(
        db,
        SimpleNamespace(name="TRANSITACK_SZT_20261207_001.txt.p7m"),
        None,
        iter([Record(2, "TRANSITACK", data)]),
    )
    db.flush()
    return errors


def transit(card) -> str:
    return functions(card)["TRANSIT"]


def test_ENABLE_ON_COLLECTION_for_an_opted_in_volunteer(db) -> None:
    v, card, req = sent_enable(db)
    assert (req.action, req.card_id, req.volunteer_no, req.status) == (
        "ENABLE",
        card.card_id,
        v.volunteer_no,
        "SENT",
    )
    assert req.effective_date == DAY
    answer(db, req, account="310012345678")
    assert transit(card) == "ON" and req.status == "ANSWERED"
    assert next(f for f in card.functions if f.function == "TRANSIT").partner_ref == "310012345678"


def test_nothing_for_a_volunteer_not_opted_in_until_ENABLE_ON_OPT_IN(db) -> None:
    v, card = collected(db, opt_transit=False)
    assert send(db) == []
    vs.set_opt_ins(db, v.volunteer_no, transit=True, actor="test")
    (req,) = send(db)
    assert req.action == "ENABLE"


def test_NEVER_TWICE_an_unanswered_request_is_not_repeated(db) -> None:
    v, card, req = sent_enable(db)
    assert send(db) == [] and send(db) == []
    assert ts.unanswered(db, datetime(2100, 1, 1, tzinfo=UTC)) == [req]


def test_CANCEL_OUT_opposite_changes_before_the_file_send_nothing(db) -> None:
    v, card = collected(db, opt_transit=True)
    vs.set_opt_ins(db, v.volunteer_no, transit=False, actor="test")  # before any TRANSITREQ
    assert send(db) == [] and transit(card) == "OFF"
    assert db.scalars(select(TransitRequest).where(TransitRequest.card_pk == card.id)).all() == []


def test_CANCEL_OUT_an_unsent_request_and_its_opposite(db) -> None:
    v, card, enable = sent_enable(db)
    answer(db, enable)
    vs.set_opt_ins(db, v.volunteer_no, transit=False, actor="test")
    (disable,) = ts.sync_requests(db)  # derived, but not yet sent (e.g. refused by the writer)
    vs.set_opt_ins(db, v.volunteer_no, transit=True, actor="test")
    assert send(db) == []
    assert disable.status == "CANCELLED" and transit(card) == "ON"


def disable_sent_after_loss(db):
    """A card whose transit function SZT enabled (an OK with an account), then reported
    lost: the card and the DISABLE sent for it."""
    v, card, enable = sent_enable(db)
    answer(db, enable, account="310012345678")
    drive(db, card, E.LOST_REPORTED)
    (disable,) = send(db)
    return card, disable


def test_DISABLE_ONLY_IF_ENABLED_when_the_card_dies_after_an_OK(db) -> None:
    card, disable = disable_sent_after_loss(db)
    assert disable.action == "DISABLE" and disable.card_id == card.card_id
    answer(db, disable)
    assert transit(card) == "OFF" and disable.transit_account_no is None


def test_DISABLE_ONLY_IF_ENABLED_also_for_an_unanswered_enable(db) -> None:
    v, card = collected(db, opt_transit=True)
    send(db)
    drive(db, card, E.EXPIRED)
    (disable,) = send(db)
    assert disable.action == "DISABLE"


def test_DISABLE_ONLY_IF_ENABLED_no_disable_after_a_failed_enable(db) -> None:
    v, card, enable = sent_enable(db)
    answer(db, enable, "FAILED", "T03")
    assert enable.status == "FAILED" and transit(card) == "OFF"
    drive(db, card, E.DAMAGED_REPORTED)
    assert send(db) == []


def test_DEREGISTRATION_KEEPS_TRANSIT(db) -> None:
    v, card, enable = sent_enable(db)
    answer(db, enable)
    vs.deregister(db, v.volunteer_no, at=NOW, actor="test")
    assert send(db) == [] and transit(card) == "ON"
    vs.set_opt_ins(db, v.volunteer_no, transit=False, actor="test")  # still theirs to change
    (disable,) = send(db)
    assert disable.action == "DISABLE"


def test_T02_IS_SUCCESS(db) -> None:
    v, card, enable = sent_enable(db)
    answer(db, enable, "FAILED", "T02")
    assert enable.status == "ANSWERED" and transit(card) == "ON"


def test_FAILED_CLOSES_and_an_operator_raises_a_new_request(db) -> None:
    v, card, enable = sent_enable(db)
    answer(db, enable, "FAILED", "T01")
    assert enable.status == "FAILED" and ts.needing_operator(db) == [enable]
    assert send(db) == []  # not repeated automatically
    again = ts.retry(db, enable.request_id, actor="op", note="SZT fixed its card list")
    assert again is not None and again.request_id != enable.request_id and again.action == "ENABLE"
    assert [r.request_id for r in send(db)] == [again.request_id]


def test_ANSWER_ONCE_a_resent_answer_changes_nothing(db) -> None:
    v, card, enable = sent_enable(db)
    answer(db, enable, account="310012345678")
    answer(db, enable, account="310012345678")
    answer(db, enable, "FAILED", "T99")  # a different "resend": the first answer stays
    assert enable.status == "ANSWERED" and enable.result == "OK" and transit(card) == "ON"


def test_a_file_rejected_whole_sends_the_same_request_ids_again(db) -> None:
    v, card, enable = sent_enable(db)
    file = SimpleNamespace(id=None, name=enable.sent_file)
    BUILDER.on_ack(db, _with_items(db, file, [enable]), AckOutcome("REJECTED", "E02", None, DAY))
    assert enable.status == "PENDING"
    assert [r.request_id for r in send(db)] == [enable.request_id]


def test_a_record_error_in_szt_ack_closes_the_request_as_rejected(db) -> None:
    v, card, enable = sent_enable(db)
    file = _with_items(db, SimpleNamespace(id=None, name=enable.sent_file), [enable])
    errs = {("transit_request", enable.request_id): ["line:2:card_id:unknown"]}
    BUILDER.on_ack(db, file, AckOutcome("PARTIAL", "E07", None, DAY, errs))
    assert enable.status == "REJECTED" and transit(card) == "OFF" and send(db) == []


def test_renewal_collected_disables_the_old_card_and_enables_the_new(db) -> None:
    v, card, enable = sent_enable(db)
    answer(db, enable)
    drive(db, card, E.EXPIRING)
    renewal = card.replaced_by or next(c for c in _cards(db, v) if c.replaces_pk == card.id)
    drive(db, renewal, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED, card_id="CARD000000000009")
    reqs = send(db)
    assert sorted((r.action, r.card_id) for r in reqs) == [
        ("DISABLE", card.card_id),
        ("ENABLE", "CARD000000000009"),
    ]


def _cards(db, v):
    from gateway.models import Card

    return db.scalars(select(Card).where(Card.volunteer_id == v.id)).all()


def _with_items(db, file, reqs):
    """A stored outbound file row holding ``reqs`` (as the engine records it)."""
    from gateway.models.exchange import ExchangeFile, OutboundItem

    row = ExchangeFile(partner="SZT", direction="out", file_type="TRANSITREQ", name=file.name, status="sent",
                       business_date=DAY, seq=1, identity=f"out|{file.name}")  # fmt: skip
    db.add(row)
    db.flush()
    for i, r in enumerate(reqs, start=2):
        db.add(OutboundItem(file_id=row.id, line=i, kind="transit_request", ref=r.request_id))
    db.flush()
    return row


def test_an_answer_for_a_request_never_sent_changes_nothing(db) -> None:
    from gateway.models.exchange import Alert

    v, card = collected(db, opt_transit=True)
    (req,) = ts.sync_requests(db)  # derived, not yet sent
    answer(db, req, account="310012345678")
    assert req.status == "PENDING" and req.result is None and transit(card) == "ON_DUE"
    assert db.scalars(select(Alert).where(Alert.kind == "transit_answer_unexpected")).all()


def test_finding_3_an_ok_enable_without_an_account_is_a_record_error(db) -> None:
    v, card, enable = sent_enable(db)
    errors = answer(db, enable, account=None)
    assert [str(e) for e in errors] == ["line:2:transit_account_no:required on an OK to an ENABLE"]
    # not taken as success: the request waits for a corrected answer, the function stays due
    assert enable.status == "SENT" and enable.result is None and transit(card) == "ON_DUE"
    assert answer(db, enable, account="310012345678") == []
    assert enable.status == "ANSWERED" and transit(card) == "ON"


def test_finding_3_an_account_on_a_disable_is_a_record_error(db) -> None:
    card, disable = disable_sent_after_loss(db)
    errors = answer(db, disable, account="310012345678")
    assert [str(e) for e in errors] == ["line:2:transit_account_no:only on an OK to an ENABLE"]
    assert disable.status == "SENT" and transit(card) == "OFF_DUE"
    assert answer(db, disable) == [] and transit(card) == "OFF"
