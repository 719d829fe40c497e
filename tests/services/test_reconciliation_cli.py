"""`svcard donations reconcile|volunteer|send-exp`: what an operator sees and may do."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.db import transaction
from gateway.models.exchange import ExchangeFile
from tests.services.swipe_helpers import apply, at, person, receipts, swipe

D = date(2026, 11, 12)


def test_reconcile_prints_the_table_and_writes_the_csv(runtime, tmp_path) -> None:
    from gateway.cli import svcard

    with transaction(runtime.sessions) as s:
        v = person(s, "CARDCLI000000001")
        w = person(s, "CARDCLI000000002")
        no, other = v.volunteer_no, w.volunteer_no
        apply(s, D, [swipe("C1", no, at(D), card_id="CARDCLI000000001"),
                     swipe("C2", no, at(D), card_id="CARDCLI000000001", fen=0),
                     swipe("C3", other, at(D), card_id="CARDCLI000000002")])  # fmt: skip
        receipts(s, ("K1", no, 10))
    runner = CliRunner()
    out = tmp_path / "rec.csv"
    res = runner.invoke(svcard, ["donations", "reconcile", "202611", "--csv", str(out)])
    assert res.exit_code == 0, res.output
    assert "SHORT" in res.stdout and "MISSING" in res.stdout and "BANK_DIFFERS: 1" in res.stdout
    assert "C2" in res.stdout  # the flagged record behind the SHORT line
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["volunteer_no", "class", "computed_fen", "bank_fen", "booked_fen", "bank_differs"]
    assert sorted(rows[1:]) == sorted(
        [[no, "SHORT", "20", "10", "10", "Y"], [other, "MISSING", "10", "10", "0", "N"]]
    )

    months = runner.invoke(svcard, ["donations", "volunteer", no])
    assert months.exit_code == 0 and "202611" in months.stdout

    bad = runner.invoke(svcard, ["donations", "reconcile", "2026-11"])
    assert bad.exit_code == 2 and "YYYYMM" in bad.output


def test_send_exp_waits_for_every_swipe_day_unless_an_operator_decides(runtime) -> None:
    from gateway.cli import svcard

    with transaction(runtime.sessions) as s:  # one day of November applied, 29 missing
        s.add(ExchangeFile(partner="BOCSZ", direction="in", file_type="SWIPE", name="SWIPE_BOCSZ_20261112_001.txt.p7m",
                           business_date=D, seq=1, status="processed"))  # fmt: skip
    runner = CliRunner()
    refused = runner.invoke(svcard, ["donations", "send-exp", "202611"])
    assert refused.exit_code == 1 and "NOT_READY" in refused.output and "29 day(s)" in refused.output
    no_reason = runner.invoke(svcard, ["donations", "send-exp", "202611", "--early"])
    assert no_reason.exit_code == 1 and "REASON_REQUIRED" in no_reason.output
    blank = runner.invoke(svcard, ["donations", "send-exp", "202611", "--early", "--reason", "   "])
    assert blank.exit_code == 1 and "REASON_REQUIRED" in blank.output  # the service's coded refusal
    days = runner.invoke(svcard, ["donations", "days", "202611"])
    assert "29 day(s)" in days.stdout and "2026-11-12" not in days.stdout


def test_an_early_decision_refused_is_a_coded_domain_error(runtime) -> None:
    from gateway.domain.errors import Conflict, Invalid
    from gateway.models.donations import DonationPeriod
    from gateway.partners.fund import exchange as fund_exchange

    with transaction(runtime.sessions) as s:
        with pytest.raises(Invalid) as no_reason:
            fund_exchange.decide_early(s, "202611", " ", "op")
        assert (no_reason.value.code, no_reason.value.field) == ("REASON_REQUIRED", "reason")
        s.add(ExchangeFile(partner="SZVF", direction="out", file_type="DONATIONEXP",
                           name="DONATIONEXP_SVA_20261203_001.txt.p7m", business_date=D, seq=1,
                           status="sent"))  # fmt: skip
        s.flush()
        s.add(DonationPeriod(period="202611", exp_file_id=s.scalar(select(ExchangeFile.id))))
        s.flush()
        with pytest.raises(Conflict) as sent:
            fund_exchange.decide_early(s, "202611", "late", "op")
        assert sent.value.code == "ALREADY_SENT" and "already sent" in sent.value.message
