"""A month of donations against the sandbox partners (sandbox/bank.py, sandbox/fund.py):
cards ordered and collected, the bank's daily SWIPE files (with wrong figures, duplicate
txn_ids, orphan reversals), DONATIONEXP on the 3rd, the fund's DONATION (booking what
the bank transferred, short, over, missing or split at its configured rates), and the
month reconciled. PostgreSQL, the sandbox's SFTP server."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from gateway import context
from gateway.db import transaction
from gateway.domain import donations as rule
from gateway.models.donations import DonationPeriod
from gateway.models.exchange import ExchangeFile
from gateway.services import reconciliation as rec
from jobs import exchange as jobs
from keys.keystore import Keystore
from sandbox.bank import BankRates
from sandbox.fund import FundRates
from sandbox.world import World
from tests.sandbox.world_kit import identity_cache
from tests.services.foundation_helpers import official

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PASSPHRASE = "test-keystore-passphrase"
START = date(2026, 11, 1)
BANK = BankRates(
    r01_identity=0, r02_photo=0, r04_branch=0, r05_credit=0, late_rate=0, audit_days=(0, 0),
    produce_days=(1, 1), notify_days=(0, 0), collect_rate=1.0, collect_days=(0, 0), loss_rate=0,
    damage_rate=0, account_close_rate=0, reissue_rate=0, swipes_per_card_day=4, refund_rate=0.05,
    reversal_rate=0.1, wrong_figure_rate=0.05, duplicate_txn_rate=0.03, orphan_reversal_rate=0.03,
)  # fmt: skip
FUND = FundRates(booking_day=8, short_rate=0.25, over_rate=0.25, missing_rate=0.15, split_rate=0.3)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_month_with_the_sandbox_bank_and_fund_reconciles_to_the_fen(tmp_path, db_url, own_gateway) -> None:
    ks = Keystore(tmp_path / "keys", PASSPHRASE)
    ks.init()
    world = World.for_keystore(
        tmp_path / "world", ks, seed=8, bank_rates=BANK, fund_rates=FUND,
        identity_cache=identity_cache(),
    ).start()  # fmt: skip
    try:
        partners = ("BOCSZ", "SZT", "SZVF")
        for p in partners:
            ks.trust(p, world.cert_path(p).read_bytes())
            ks.trust_host(p, (world.root / "export" / f"{p}.known_hosts").read_text())
        urls = {e.partner: e.url for e in world.endpoints() if e.partner in partners}
        rt = own_gateway(db_url, ks.path, PASSPHRASE, partner_urls=urls, retry_base_delay=0.0)
        with transaction(rt.sessions) as session:
            for _ in range(8):
                official(session)
        day = START
        while day <= date(2026, 12, 9):
            for p in partners:
                jobs.send_scheduled(p, day.isoformat())
            world.run_day(day)
            for p in partners:
                jobs.fetch_and_process(p, day.isoformat())
            day += timedelta(days=1)
        with transaction(rt.sessions) as session:
            assert rec.missing_days(session, "202611") == []
            sent = session.get(DonationPeriod, "202611")
            assert sent is not None and sent.exp_file_id is not None and sent.early_at is None
            exp = session.get(ExchangeFile, sent.exp_file_id)
            assert exp.business_date == date(2026, 12, 3)
            donation = session.scalars(
                select(ExchangeFile).where(
                    ExchangeFile.file_type == "DONATION", ExchangeFile.direction == "in"
                )
            ).all()
            assert donation and all(f.status == "processed" and f.ack_file_id for f in donation)
            report = rec.report(session, "202611")
        assert report.computed_fen > 0
        # every beneficiary once; the class totals add up to the month's totals
        assert len({ln.volunteer_no for ln in report.lines}) == len(report.lines)
        assert sum(c.count for c in report.classes.values()) == len(report.lines)
        assert sum(c.computed_fen for c in report.classes.values()) == report.computed_fen
        assert sum(c.booked_fen for c in report.classes.values()) == report.booked_fen
        # the fund books the bank's figures: a beneficiary booked exactly what the bank said
        # is MATCHED unless the bank's figure differs from ours
        for ln in report.lines:
            assert ln.klass == rule.classify(
                ln.computed_fen if ln.has_computed else None, ln.booked_fen if ln.has_booked else None
            )
            if ln.has_booked and ln.booked_fen == ln.bank_fen and ln.has_computed:
                assert (ln.klass == "MATCHED") == (not ln.bank_differs)
        flagged = {f for x in report.flagged for f in x.flags}
        assert "BANK_DIFFERS" in flagged
        classes = {ln.klass for ln in report.lines}
        assert len(classes) >= 2, classes
    finally:
        context.install(None)
        world.close()
