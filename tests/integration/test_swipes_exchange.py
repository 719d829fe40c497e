"""Swipes and the fund over a real SFTP server (the sandbox's), with real envelopes, on
SQLite and PostgreSQL: the engine drives the SWIPE handler, the DONATIONEXP builder and
the DONATION handler exactly as in production. We act as the bank and the fund (files
written with the schemas writer, sealed with a partner identity, dropped in the outbox).
"""

from __future__ import annotations

import dataclasses
import io
import shutil
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from gateway.db import transaction
from gateway.models.donations import DonationPeriod, Swipe, SwipeDuplicate
from gateway.models.exchange import ExchangeFile
from gateway.services import reconciliation as rec
from jobs import exchange as jobs
from keys import envelope
from keys.identity import cert_pem, make_identity
from keys.keystore import Keystore
from sandbox.sftp_server import SandboxSftpServer
from schemas import writer
from schemas.reader import read as read_file

pytestmark = pytest.mark.integration
PASSPHRASE = "test-keystore-passphrase"
NOV = date(2026, 11, 1)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    base = tmp_path_factory.mktemp("swipes")
    ks = Keystore(base / "keys", PASSPHRASE)
    ks.init()
    ids = {p: make_identity(f"{p} sandbox (test)") for p in ("BOCSZ", "SZVF")}
    server = SandboxSftpServer(base / "sftp", [ks.ssh_client_key()], partners=list(ids))
    server.start()
    for p, (cert, _key) in ids.items():
        ks.trust(p, cert_pem(cert))
        ks.trust_host(p, f"[127.0.0.1]:{server.port} {server.host_key_line}\n")
    yield ks, server, ids
    server.stop()


@pytest.fixture
def world(db_url, shared, own_gateway):
    ks, server, ids = shared
    for p in ids:
        for sub in ("inbox", "outbox"):
            shutil.rmtree(server.folder(p.lower()) / sub, ignore_errors=True)
            (server.folder(p.lower()) / sub).mkdir(parents=True)
    urls = {p: server.url(p.lower()) for p in ids}
    rt = own_gateway(db_url, ks.path, PASSPHRASE, partner_urls=urls, retry_base_delay=0.0)
    return dataclasses.make_dataclass("W", ["rt", "ks", "server", "ids"])(rt, ks, server, ids)


def drop(
    w, partner: str, file_type: str, records, bdate: date, seq: int = 1, name: str | None = None, patch=None
) -> str:
    """Write, seal as the partner and drop into its outbox (``patch``: (old, new) bytes
    replaced in the plain file, to make a record the writer would refuse)."""
    cert, key = w.ids[partner]
    plain, _ = writer.write_bytes(
        file_type, records, sender=partner, receiver="SVA", business_date=bdate, seq=seq,
        created_time=datetime.combine(bdate, datetime.min.time()) + timedelta(hours=30),
    )  # fmt: skip
    if patch:
        plain = plain.replace(*patch)
    name = name or f"{writer.file_name(file_type, partner, bdate, seq)}.p7m"
    sealed = envelope.seal(plain, cert, key, [w.ks.certificate("decrypt")])
    (w.server.folder(partner.lower()) / "outbox" / name).write_bytes(sealed)
    return name


def partner_reads(w, partner: str, prefix: str) -> list[dict]:
    """Open what we uploaded to the partner's inbox, as the partner would."""
    out = []
    for p in sorted((w.server.folder(partner.lower()) / "inbox").glob(f"{prefix}_SVA_*.p7m")):
        plain = envelope.open_envelope(p.read_bytes(), [w.ids[partner]], [w.ks.certificate("sign")])
        out += [
            r.data for r in read_file(io.BytesIO(plain), file_name=p.name, sender="SVA", receiver=partner)
        ]
    return out


def swipe(txn: str, no: str, day: date, kind: str = "PURCHASE", orig: str | None = None, fen=None) -> dict:
    return {"txn_id": txn, "card_id": "CARDUNKNOWN00001", "volunteer_no": no,
            "txn_time": datetime.combine(day, datetime.min.time()) + timedelta(hours=10),
            "txn_type": kind, "orig_txn_id": orig, "channel": "QR", "mcc": "5411",
            "donation_fen": {"PURCHASE": 10, "REFUND": 0, "REVERSAL": -10}[kind] if fen is None else fen}  # fmt: skip


def stored_count(w) -> int:
    with transaction(w.rt.sessions) as s:
        return s.scalar(select(func.count()).select_from(Swipe))


def totals(w, period: str) -> tuple[int, int]:
    with transaction(w.rt.sessions) as s:
        r = rec.report(s, period)
        return r.computed_fen, r.bank_fen


def test_the_same_swipe_file_delivered_twice_is_applied_once(world) -> None:
    day = date(2026, 11, 9)
    first = drop(
        world, "BOCSZ", "SWIPE", [swipe("T1", "1000000001", day), swipe("T2", "1000000001", day)], day
    )
    jobs.fetch_and_process("BOCSZ", "2026-11-10")
    assert stored_count(world) == 2 and totals(world, "202611") == (20, 20)
    # still listed under its name: skipped; the same bytes under a new name: E06, not applied
    again = world.server.folder("bocsz") / "outbox" / first
    (again.parent / "SWIPE_BOCSZ_20261109_002.txt.p7m").write_bytes(again.read_bytes())
    report = jobs.fetch_and_process("BOCSZ", "2026-11-10")
    assert report.fetched == [] and report.duplicates == ["SWIPE_BOCSZ_20261109_002.txt.p7m"]
    assert stored_count(world) == 2 and totals(world, "202611") == (20, 20)
    acks = {
        a["original_file_name"]: (a["status"], a["error_code"]) for a in partner_reads(world, "BOCSZ", "ACK")
    }
    assert acks[first] == ("ACCEPTED", None)  # flags (unknown volunteer and card) are not record errors
    assert acks["SWIPE_BOCSZ_20261109_002.txt.p7m"] == ("REJECTED", "E06")


def test_a_transaction_the_bank_resends_the_next_day_sends_that_file_the_general_way(world) -> None:
    """Day 2 repeats T2 of day 1: on PostgreSQL the engine tries the direct way, the
    primary key refuses T2, and the file is rolled back and applied the general way."""
    d1, d2 = date(2026, 11, 9), date(2026, 11, 10)
    first = drop(world, "BOCSZ", "SWIPE", [swipe("T1", "1000000001", d1), swipe("T2", "1000000001", d1)], d1)
    jobs.fetch_and_process("BOCSZ", "2026-11-10")
    records = [swipe("T2", "1000000001", d2), swipe("T3", "1000000001", d2),
               swipe("V1", "1000000001", d2, "REVERSAL", "T1")]  # fmt: skip
    second = drop(world, "BOCSZ", "SWIPE", records, d2)
    jobs.fetch_and_process("BOCSZ", "2026-11-11")
    postgres = world.rt.engine.dialect.name == "postgresql"
    with transaction(world.rt.sessions) as s:
        files = {f.name: f for f in s.scalars(select(ExchangeFile).where(ExchangeFile.file_type == "SWIPE"))}
        assert {n: f.status for n, f in files.items()} == {first: "processed", second: "processed"}
        assert files[first].detail.endswith("(direct way)" if postgres else "(general way)")
        assert files[second].detail == (
            "3 records: 2 stored, 1 duplicates, 3 flagged; computed 0 fen, bank 10 fen (general way)"
        )
        assert files[second].record_count == 3  # every record flagged: number and card unknown to SVA
        dups = s.scalars(select(SwipeDuplicate)).all()
        assert [(d.txn_id, d.file_id, d.day) for d in dups] == [("T2", files[second].id, d2)]
        assert s.get(Swipe, "T2").file_id == files[first].id  # the first one stays
        assert s.get(Swipe, "V1").fen == -10
    assert stored_count(world) == 4  # T1, T2, T3 and the reversal V1: every txn_id once
    assert totals(world, "202611") == (20, 30)  # T1 + T2 + T3 - T1; the bank counted T2 twice
    acks = {a["original_file_name"]: a["status"] for a in partner_reads(world, "BOCSZ", "ACK")}
    assert acks == {first: "ACCEPTED", second: "ACCEPTED"}


def test_a_record_error_leaves_the_other_swipes_applied(world) -> None:
    day = date(2026, 11, 9)
    bad = swipe("T9", "1000000001", day)
    bad["mcc"] = "5999"
    records = [swipe("T8", "1000000001", day), bad]
    name = drop(
        world, "BOCSZ", "SWIPE", records, day, patch=(b"|5999|", b"|59X9|")
    )  # a record error, not a flag
    jobs.fetch_and_process("BOCSZ", "2026-11-10")
    assert stored_count(world) == 1
    ack = next(a for a in partner_reads(world, "BOCSZ", "ACK") if a["original_file_name"] == name)
    assert (ack["status"], ack["error_code"], ack["error_text"].split(":")[:3]) == (
        "PARTIAL",
        "E07",
        ["line", "3", "mcc"],
    )


def november_but_the_30th(world, no: str, tag: str, fetched_on: str) -> date:
    """The bank's SWIPE files of 1 to 29 November, one purchase by ``no`` in each (txn ids
    ``tag`` + the day), fetched and applied on ``fetched_on``; returns 30 November, the day
    still missing."""
    for i in range(29):
        d = NOV + timedelta(days=i)
        drop(world, "BOCSZ", "SWIPE", [swipe(f"{tag}{d:%d}", no, d)], d)
    jobs.fetch_and_process("BOCSZ", fetched_on)
    return NOV + timedelta(days=29)


def test_a_month_of_swipes_donationexp_on_the_3rd_and_the_funds_receipts(world) -> None:
    no = "1000000002"
    last = november_but_the_30th(world, no, "N", "2026-11-30")
    # 29 days applied: not due on the 3rd, nothing goes
    assert jobs.send_scheduled("SZVF", "2026-12-03") == []
    drop(world, "BOCSZ", "SWIPE", [swipe("X1", no, last, "REVERSAL", "N01")], last)
    jobs.fetch_and_process("BOCSZ", "2026-12-01")
    assert jobs.send_scheduled("SZVF", "2026-12-02") == []  # complete, but due on the 3rd
    sent = jobs.send_scheduled("SZVF", "2026-12-03")
    assert len(sent) == 1
    assert jobs.send_scheduled("SZVF", "2026-12-03") == []  # sent once
    lines = partner_reads(world, "SZVF", "DONATIONEXP")
    assert lines == [
        {
            "volunteer_no": "0000000000",
            "period": "202611",
            "purchase_count": 29,
            "reversal_count": 1,
            "expected_fen": 280,
        }
    ]  # fmt: skip  (an unknown number: the campaign)
    # the fund books short, then a late correction
    receipts = [{"receipt_id": "R1", "volunteer_no": "0000000000", "period": "202611", "amount_fen": 270,
                 "received_date": date(2026, 12, 8)}]  # fmt: skip
    d1 = drop(world, "SZVF", "DONATION", receipts, date(2026, 12, 8))
    jobs.fetch_and_process("SZVF", "2026-12-08")
    with transaction(world.rt.sessions) as s:
        assert rec.report(s, "202611").lines[0].klass == "SHORT"
    late = [{**receipts[0], "receipt_id": "R2", "amount_fen": 10}]
    d2 = drop(world, "SZVF", "DONATION", late, date(2026, 12, 12))
    jobs.fetch_and_process("SZVF", "2026-12-12")
    with transaction(world.rt.sessions) as s:
        report = rec.report(s, "202611")
        assert [(ln.klass, ln.computed_fen, ln.booked_fen) for ln in report.lines] == [("MATCHED", 280, 280)]
        assert '"MATCHED": {"klass": "MATCHED", "count": 1' in s.get(DonationPeriod, "202611").report
    acks = {a["original_file_name"]: a["status"] for a in partner_reads(world, "SZVF", "ACK")}
    assert acks == {d1: "ACCEPTED", d2: "ACCEPTED"}


def test_a_month_completed_after_the_3rd_goes_with_the_daily_job(world) -> None:
    from jobs import donations

    last = november_but_the_30th(world, "1000000003", "M", "2026-12-01")
    assert jobs.send_scheduled("SZVF", "2026-12-03") == []  # 30 November still missing
    assert donations.send_expected("2026-12-04") is None
    drop(world, "BOCSZ", "SWIPE", [], last)  # the bank's late, empty file for the 30th
    jobs.fetch_and_process("BOCSZ", "2026-12-05")
    assert donations.send_expected("2026-12-05") == "DONATIONEXP_SVA_20261205_001.txt.p7m"
    assert donations.send_expected("2026-12-06") is None  # a month is sent once
    assert [x["expected_fen"] for x in partner_reads(world, "SZVF", "DONATIONEXP")] == [290]


def test_no_donation_file_by_the_10th_raises_one_alert(world) -> None:
    from gateway.models.exchange import Alert
    from jobs import donations

    assert donations.check_donation_received("2026-12-10") is None  # not late yet
    assert donations.check_donation_received("2026-12-11") == "DONATION for 202611"
    donations.check_donation_received("2026-12-12")  # still one open alert
    with transaction(world.rt.sessions) as s:
        alerts = s.scalars(select(Alert).where(Alert.kind == "file_missing")).all()
        assert [(a.partner, a.subject) for a in alerts] == [("SZVF", "SZVF:DONATION:202611")]
    drop(world, "SZVF", "DONATION", [], date(2027, 1, 8))
    jobs.fetch_and_process("SZVF", "2027-01-08")
    assert donations.check_donation_received("2027-01-11") is None


# ------------------------------------------------------------ issue 19, fund findings


def _complete_november(w, no: str = "1000000009", upto: int = 30) -> None:
    for i in range(upto):
        d = NOV + timedelta(days=i)
        drop(w, "BOCSZ", "SWIPE", [swipe(f"F{d:%d}", no, d)], d)
    jobs.fetch_and_process("BOCSZ", "2026-12-01")


def _fund_acks(w, name: str, code: str, bdate: date) -> None:
    """The fund's ACK of our file ``name``: REJECTED with ``code``."""
    import hashlib

    sealed = (w.server.folder("szvf") / "inbox" / name).read_bytes()
    rec = {"original_file_name": name, "sha256": hashlib.sha256(sealed).hexdigest(), "status": "REJECTED",
           "error_code": code, "error_text": "test"}  # fmt: skip
    drop(w, "SZVF", "ACK", [rec], bdate)


def _exp_files(w) -> list[str]:
    with transaction(w.rt.sessions) as s:
        return list(
            s.scalars(
                select(ExchangeFile.name)
                .where(ExchangeFile.file_type == "DONATIONEXP")
                .order_by(ExchangeFile.id)
            )
        )


def test_finding_1_e06_on_donationexp_does_not_send_the_month_again(world) -> None:
    from jobs import donations

    _complete_november(world)
    (sent,) = jobs.send_scheduled("SZVF", "2026-12-03")
    _fund_acks(world, sent, "E06", date(2026, 12, 3))
    jobs.fetch_and_process("SZVF", "2026-12-04")
    assert donations.send_expected("2026-12-04") is None
    assert jobs.send_scheduled("SZVF", "2026-12-05") == []
    assert _exp_files(world) == [sent]
    with transaction(world.rt.sessions) as s:
        assert s.get(DonationPeriod, "202611").exp_file_id is not None


def test_finding_1_a_donationexp_rejected_whole_goes_again_under_a_new_seq(world) -> None:
    from jobs import donations

    _complete_november(world)
    (sent,) = jobs.send_scheduled("SZVF", "2026-12-03")
    _fund_acks(world, sent, "E02", date(2026, 12, 3))
    jobs.fetch_and_process("SZVF", "2026-12-03")
    again = donations.send_expected("2026-12-03")
    assert again == "DONATIONEXP_SVA_20261203_002.txt.p7m"
    assert _exp_files(world) == [sent, again]
    assert [x["period"] for x in partner_reads(world, "SZVF", "DONATIONEXP")] == ["202611", "202611"]
    assert donations.send_expected("2026-12-04") is None  # once accepted or pending, not again


def test_finding_7_a_rejected_donation_file_does_not_count_as_arrived(world) -> None:
    from jobs import donations

    bad = "DONATION_SZVF_20261208_001.txt.p7m"
    (world.server.folder("szvf") / "outbox" / bad).write_bytes(b"not an envelope")
    jobs.fetch_and_process("SZVF", "2026-12-08")
    with transaction(world.rt.sessions) as s:
        assert s.scalar(select(ExchangeFile.status).where(ExchangeFile.name == bad)) == "rejected"
    assert donations.check_donation_received("2026-12-11") == "DONATION for 202611"


def test_finding_8_a_donationexp_held_back_raises_an_alert_naming_the_days_until_sent(world) -> None:
    from croniter import croniter

    from gateway.models.exchange import Alert
    from gateway.partners import registry
    from jobs import donations

    _complete_november(world, upto=29)  # 30 November missing
    assert donations.send_expected("2026-12-02") is None  # not due yet: no alert
    assert donations.send_expected("2026-12-03") is None
    with transaction(world.rt.sessions) as s:
        (alert,) = s.scalars(select(Alert).where(Alert.kind == "donationexp_held")).all()
        assert "20261130" in alert.message and "1 day(s)" in alert.message and alert.resolved_at is None
    # the job runs every day, the 29th to the 31st included, until the month goes
    (entry,) = [
        e for p in registry.partners() for e in p.schedule if e.func == "jobs.donations.send_expected"
    ]
    assert all(croniter.match(entry.cron, datetime(2026, 12, d, 3, 5)) for d in (3, 4, 28, 29, 30, 31))
    drop(world, "BOCSZ", "SWIPE", [], NOV + timedelta(days=29))
    jobs.fetch_and_process("BOCSZ", "2026-12-30")
    assert donations.send_expected("2026-12-30") == "DONATIONEXP_SVA_20261230_001.txt.p7m"
    with transaction(world.rt.sessions) as s:
        (alert,) = s.scalars(select(Alert).where(Alert.kind == "donationexp_held")).all()
        assert alert.resolved_at is not None


def test_months_before_the_first_swipe_file_are_not_held(world) -> None:
    """docs/decisions.md, "The months before go-live": before the first SWIPE file, and for
    a month that ended before it, no DONATIONEXP is owed and nothing is held back."""
    from jobs import donations

    assert donations.send_expected("2026-11-05") is None  # no SWIPE file yet: nothing held
    assert _held_alerts(world) == []
    drop(world, "BOCSZ", "SWIPE", [], NOV + timedelta(days=20))  # go-live: the 21st
    jobs.fetch_and_process("BOCSZ", "2026-11-22")
    assert donations.send_expected("2026-11-22") is None  # October ended before go-live
    assert _held_alerts(world) == []
    assert donations.send_expected("2026-12-03") is None  # November had swipes: it waits
    [(subject, message, resolved)] = _held_alerts(world)
    assert subject.endswith(":202611") and "29 day(s)" in message and not resolved


def _held_alerts(w) -> list[tuple[str, str, bool]]:
    from gateway.models.exchange import Alert

    with transaction(w.rt.sessions) as s:
        rows = s.scalars(select(Alert).where(Alert.kind == "donationexp_held").order_by(Alert.id)).all()
        return [(a.subject, a.message, a.resolved_at is not None) for a in rows]


def test_finding_8_a_held_month_sent_by_the_3rds_send_closes_its_alert(world) -> None:
    from jobs import donations

    _complete_november(world, upto=29)
    assert donations.send_expected("2026-12-03") is None
    drop(world, "BOCSZ", "SWIPE", [], NOV + timedelta(days=29))  # the 30th, a month late
    jobs.fetch_and_process("BOCSZ", "2027-01-02")
    # the next 3rd's scheduled send (not the daily job) takes November with it
    assert jobs.send_scheduled("SZVF", "2027-01-03") == ["DONATIONEXP_SVA_20270103_001.txt.p7m"]
    ((subject, message, resolved),) = _held_alerts(world)
    assert subject == "SZVF:DONATIONEXP:202611" and resolved
    assert "sent in DONATIONEXP_SVA_20270103_001.txt.p7m" in message


def test_finding_8_an_operators_early_send_closes_the_held_alert(world) -> None:
    from click.testing import CliRunner

    from gateway.cli import svcard
    from jobs import donations

    _complete_november(world, upto=29)
    assert donations.send_expected("2026-12-03") is None
    res = CliRunner().invoke(
        svcard,
        ["donations", "send-exp", "202611", "--early", "--reason", "the bank has no file for the 30th"],
    )
    assert res.exit_code == 0, res.output
    ((_, message, resolved),) = _held_alerts(world)
    assert resolved and "sent in DONATIONEXP_SVA_" in message
    assert donations.send_expected("2026-12-08") is None
    assert [a[2] for a in _held_alerts(world)] == [True]  # sent: not raised again


def test_finding_8_the_held_alert_names_the_days_still_missing(world) -> None:
    from jobs import donations

    _complete_november(world, upto=28)  # 29 and 30 November missing
    assert donations.send_expected("2026-12-03") is None
    ((_, message, _),) = _held_alerts(world)
    assert "2 day(s): 20261129, 20261130" in message
    drop(world, "BOCSZ", "SWIPE", [], NOV + timedelta(days=28))
    jobs.fetch_and_process("BOCSZ", "2026-12-04")
    assert donations.send_expected("2026-12-04") is None
    ((_, message, resolved),) = _held_alerts(world)  # still one alert, now naming one day
    assert "1 day(s): 20261130;" in message and "20261129" not in message and not resolved
