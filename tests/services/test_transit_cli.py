"""`svcard transit requests|retry`: an operator sees a FAILED Shenzhen Tong request and
raises it again; the next TRANSITREQ carries it under a new request id."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner
from sqlalchemy import select

from gateway.db import transaction
from gateway.domain.lifecycle import CardEventType as E
from gateway.models.transit import TransitRequest
from gateway.services import transit as ts
from tests.services.foundation_helpers import drive, first_card, official


def test_operator_sees_a_failed_request_and_raises_it_again(runtime) -> None:
    from gateway.cli import svcard

    with transaction(runtime.sessions) as s:
        v = official(s, opt_transit=True)
        drive(s, first_card(v), E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.COLLECTED)
        (req,) = ts.sync_requests(s)
        ts.mark_sent(req, "TRANSITREQ_SVA_20261207_001.txt.p7m", date(2026, 12, 7))
        ts.apply_answer(
            s, request_id=req.request_id, result="FAILED", reason_code="T03", account_no=None,
            processed_date=date(2026, 12, 7), success=False, file_name="TRANSITACK_SZT_20261207_001.txt.p7m",
        )  # fmt: skip
        old = req.request_id
    runner = CliRunner()
    listed = runner.invoke(svcard, ["transit", "requests"])
    assert listed.exit_code == 0, listed.output
    assert old in listed.stdout and "FAILED" in listed.stdout and "T03" in listed.stdout
    again = runner.invoke(svcard, ["transit", "retry", old, "--note", "card unblocked by SZT"])
    assert again.exit_code == 0, again.output
    assert "raised again as" in again.stdout
    twice = runner.invoke(svcard, ["transit", "retry", old, "--note", "twice"])
    assert twice.exit_code == 1 and "ALREADY_RAISED" in twice.output
    with transaction(runtime.sessions) as s:
        rows = s.scalars(select(TransitRequest).order_by(TransitRequest.id)).all()
        assert [(r.action, r.status) for r in rows] == [("ENABLE", "FAILED"), ("ENABLE", "PENDING")]
        assert rows[1].request_id != old and "card unblocked by SZT" in rows[0].note
