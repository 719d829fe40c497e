"""The sandbox bank's back office (bank.md), driven day by day with hand-made sealed files."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, timedelta

from keys.identity import make_identity
from sandbox.clock import add_months_clamped, add_working_days, days, month_end
from tests.sandbox.world_kit import (
    QUIET_BANK,
    acks,
    make_world,
    order_line,
    order_package,
    outbox,
    plain_file,
    put,
    put_raw,
    raw_lines_file,
    records,
)

D0 = date(2026, 11, 30)  # a Monday


def _run(world, start: date, end: date) -> None:
    for d in days(start, end):
        world.run_day(d)


def test_order_with_a_bad_field_is_partial_and_the_rest_is_made_notified_and_collected(tmp_path):
    world = make_world(tmp_path, bank=QUIET_BANK)
    name, pkg = order_package(
        D0,
        [
            order_line("O1", "2019004417"),
            order_line("O2", "2019004418", mobile="12345"),
            order_line("O3", "2019004419", carrier="CREDIT"),
        ],
    )
    put(world, "BOCSZ", name, pkg)
    world.run_day(D0)

    ack = acks(world, "BOCSZ")[name + ".p7m"]
    assert ack["status"] == "PARTIAL" and ack["error_code"] == "E07"
    assert ack["error_text"].startswith("line:3:mobile:")
    sealed = (world.root / "BOCSZ" / "inbox" / (name + ".p7m")).read_bytes()
    assert ack["sha256"] == hashlib.sha256(sealed).hexdigest()

    _run(world, D0 + timedelta(days=1), add_working_days(D0, 20) + timedelta(days=2))
    results = records(world, "BOCSZ", "CARDRESULT")
    by_order: dict[str, list[str]] = {}
    for r in results:
        by_order.setdefault(r["order_id"], []).append(r["result"])
    assert by_order == {
        "O1": ["ACCEPTED", "PRODUCED", "NOTIFIED"],
        "O3": ["ACCEPTED", "PRODUCED", "NOTIFIED"],
    }
    made = [r for r in results if r["result"] in ("PRODUCED", "NOTIFIED")]
    for r in made:
        assert len(r["card_id"]) == 16 and r["card_id"].isalnum()
        assert r["masked_pan"].startswith("621785******")
        assert len(r["expiry"]) == 6
    notified = {r["order_id"]: r for r in results if r["result"] == "NOTIFIED"}
    for r in results:  # within the service levels, counted from day 0
        due = {"PRODUCED": 15, "NOTIFIED": 20}.get(r["result"])
        if due:
            assert r["event_date"] <= add_working_days(D0, due)
    # CARDRESULT only on working days, every working day (empty when nothing happened)
    dates = [g.header.business_date for g in outbox(world, "BOCSZ", "CARDRESULT")]
    assert all(d.weekday() < 5 for d in dates)
    assert len(dates) == len([d for d in days(D0, dates[-1]) if d.weekday() < 5])

    events = records(world, "BOCSZ", "CARDSTATUS")
    collected = {e["card_id"]: e for e in events if e["event"] == "COLLECTED"}
    assert set(collected) == {r["card_id"] for r in notified.values()}
    for r in notified.values():
        assert collected[r["card_id"]]["event_time"].date() == r["event_date"] + timedelta(days=1)

    swipes = outbox(world, "BOCSZ", "SWIPE")
    assert len(swipes) == len(days(D0, swipes[-1].header.business_date))  # one a day, even empty
    lines = [r for g in swipes for r in g.records]
    assert lines and {r["card_id"] for r in lines} <= set(collected)
    for g in swipes:
        for r in g.records:
            assert r["txn_time"].date() == g.header.business_date
            assert r["txn_time"].date() >= collected[r["card_id"]]["event_time"].date()


def test_audit_rejections_and_r03_only_for_a_real_duplicate(tmp_path):
    world = make_world(tmp_path, bank=replace(QUIET_BANK, r02_photo=0.0))
    put(world, "BOCSZ", *order_package(D0, [order_line("A1", "2019000001")]))
    _run(world, D0, add_working_days(D0, 21))
    card_id = next(r["card_id"] for r in records(world, "BOCSZ", "CARDRESULT") if r["result"] == "NOTIFIED")

    d1 = add_working_days(D0, 22)
    renew = order_line("A3", "2019000001", order_type="RENEW", replaces_card_id=card_id)
    put(
        world,
        "BOCSZ",
        *order_package(d1, [order_line("A2", "2019000001"), renew, order_line("A4", "2019000004")]),
    )
    _run(world, d1, d1 + timedelta(days=5))
    first = {}
    for r in records(world, "BOCSZ", "CARDRESULT"):
        first.setdefault(r["order_id"], r)
    assert first["A2"]["result"] == "REJECTED" and first["A2"]["reason_code"] == "R03"
    assert first["A3"]["result"] == "ACCEPTED"  # a RENEW is never a duplicate
    assert first["A4"]["result"] == "ACCEPTED"

    photo_world = make_world(tmp_path / "w2", bank=replace(QUIET_BANK, r02_photo=1.0))
    put(photo_world, "BOCSZ", *order_package(D0, [order_line("P1", "2019000009")]))
    _run(photo_world, D0, D0 + timedelta(days=4))
    (only,) = records(photo_world, "BOCSZ", "CARDRESULT")
    assert (only["result"], only["reason_code"]) == ("REJECTED", "R02")


def test_cancel_before_production_and_loss_report(tmp_path):
    world = make_world(tmp_path, bank=QUIET_BANK)
    put(world, "BOCSZ", *order_package(D0, [order_line("C1", "2019000011"), order_line("C2", "2019000012")]))
    _run(world, D0, add_working_days(D0, 21))
    c2 = next(
        r
        for r in records(world, "BOCSZ", "CARDRESULT")
        if r["order_id"] == "C2" and r["result"] == "NOTIFIED"
    )

    d1 = add_working_days(D0, 23)
    put(world, "BOCSZ", *order_package(d1, [order_line("C3", "2019000013")]))
    world.run_day(d1)
    d2 = d1 + timedelta(days=1)
    req = [
        {"request_id": "Q1", "request_type": "CANCEL_ORDER", "order_id": "C3", "volunteer_no": "2019000013",
         "request_time": None, "reason": "withdrawn"},
        {"request_id": "Q2", "request_type": "LOSS_REPORT", "card_id": c2["card_id"], "volunteer_no": "2019000012",
         "request_time": None, "reason": ""},
        {"request_id": "Q3", "request_type": "CANCEL_ORDER", "order_id": "C1", "volunteer_no": "2019000011",
         "request_time": None, "reason": "too late"},
    ]  # fmt: skip
    from datetime import datetime

    for r in req:
        r["request_time"] = datetime(2027, 1, 1, 18, 0, 0)
    name, plain = plain_file("CARDREQ", "BOCSZ", d2, req)
    put(world, "BOCSZ", name, plain)
    _run(world, d2, d2 + timedelta(days=25))

    assert acks(world, "BOCSZ")[name + ".p7m"]["status"] == "ACCEPTED"
    c3 = [r for r in records(world, "BOCSZ", "CARDRESULT") if r["order_id"] == "C3"]
    assert [(r["result"], r["reason_code"]) for r in c3] == [("REJECTED", "R07")]
    c1 = [r["result"] for r in records(world, "BOCSZ", "CARDRESULT") if r["order_id"] == "C1"]
    assert c1 == ["ACCEPTED", "PRODUCED", "NOTIFIED"]  # too late: the card goes on
    lost = [e for e in records(world, "BOCSZ", "CARDSTATUS") if e["event"] == "LOST_REPORTED"]
    assert [(e["card_id"], e["channel"], e["event_time"].date()) for e in lost] == [
        (c2["card_id"], "PLATFORM", d2)
    ]
    swiped_after = [
        s
        for s in records(world, "BOCSZ", "SWIPE")
        if s["card_id"] == c2["card_id"] and s["txn_time"].date() > d2
    ]
    assert swiped_after == []  # a dead card makes no purchase


def test_refused_files_are_acknowledged_with_their_code_and_nothing_applied(tmp_path):
    world = make_world(tmp_path, bank=QUIET_BANK)
    name, pkg = order_package(D0, [order_line("T1", "2019000021")])
    put(world, "BOCSZ", name, pkg, signer=make_identity("not SVA", bits=3072))  # E02: signer not pinned
    put_raw(world, "BOCSZ", "CARDREQ_SVA_20261130_001.txt.p7m", b"\x30\x03garbage")  # E01
    bad_name, bad = raw_lines_file("CARDREQ", "BOCSZ", D0, [], seq=2)
    put(world, "BOCSZ", bad_name.replace("_002", "_003"), bad)  # E04: name disagrees with header
    wrong_name, wrong = raw_lines_file("CARDREQ", "SZT", D0, [], seq=4)
    put(world, "BOCSZ", wrong_name, wrong)  # E05: the header names another receiver
    good_name, good = raw_lines_file("CARDREQ", "BOCSZ", D0, [], seq=5)
    put(world, "BOCSZ", good_name, good)
    put_raw(
        world,
        "BOCSZ",
        "CARDREQ_SVA_20261130_006.txt.p7m",
        (world.root / "BOCSZ/inbox" / (good_name + ".p7m")).read_bytes(),
    )
    bad_bytes_name, text = raw_lines_file(
        "CARDREQ", "BOCSZ", D0, ["D|Q1|LOSS_REPORT|K7Q2M9X4B1C8D3E5||2019000001|20261129120000|lost"], seq=7
    )
    put(world, "BOCSZ", bad_bytes_name, text.replace(b"lost", b"lo\xff"))  # E03: not GB18030
    put_raw(
        world, "BOCSZ", "ACK_SVA_20261130_001.txt.p7m", b"\x30\x03junk"
    )  # a broken ACK: never acknowledged
    _run(world, D0, D0 + timedelta(days=5))

    got = {n: (a["status"], a["error_code"]) for n, a in acks(world, "BOCSZ").items()}
    assert got == {
        name + ".p7m": ("REJECTED", "E02"),
        "CARDREQ_SVA_20261130_001.txt.p7m": ("REJECTED", "E01"),
        "CARDREQ_SVA_20261130_003.txt.p7m": ("REJECTED", "E04"),
        wrong_name + ".p7m": ("REJECTED", "E05"),
        good_name + ".p7m": ("ACCEPTED", None),
        "CARDREQ_SVA_20261130_006.txt.p7m": ("REJECTED", "E06"),
        bad_bytes_name + ".p7m": ("REJECTED", "E03"),
    }
    assert records(world, "BOCSZ", "CARDRESULT") == []  # the order was never received
    world.run_day(D0 + timedelta(days=6))
    assert len(acks(world, "BOCSZ")) == 7  # each file acknowledged once


def test_not_collected_cards_are_reminded_and_cut_after_six_months_only_debit_reissued_and_cards_expire(
    tmp_path,
):
    rates = replace(QUIET_BANK, collect_rate=0.0, validity_months=3, swipes_per_card_day=0)
    world = make_world(tmp_path, bank=rates)
    put(world, "BOCSZ", *order_package(D0, [order_line("N1", "2019000031")]))
    _run(world.bank, D0, date(2027, 4, 2))
    notified = next(r for r in records(world, "BOCSZ", "CARDRESULT") if r["result"] == "NOTIFIED")
    events = [(e["event"], e["event_time"].date()) for e in records(world, "BOCSZ", "CARDSTATUS")]
    # expiry = production month + 3: EXPIRING 60 days before the end of the expiry month, EXPIRED the day
    # after; the card died before its pickup deadline, so it was never reminded nor cut
    end = month_end(int(notified["expiry"][:4]), int(notified["expiry"][4:]))
    assert events == [("EXPIRING", end - timedelta(days=60)), ("EXPIRED", end + timedelta(days=1))]
    world2 = make_world(tmp_path / "w2", bank=replace(rates, validity_months=60, cut_reissue_rate=1.0))
    put(
        world2,
        "BOCSZ",
        *order_package(
            D0, [order_line("N2", "2019000032"), order_line("N3", "2019000033", carrier="CREDIT")]
        ),
    )
    _run(world2.bank, D0, date(2027, 7, 10))
    for oid, carrier in (("N2", "DEBIT"), ("N3", "CREDIT")):
        n = next(
            r
            for r in records(world2, "BOCSZ", "CARDRESULT")
            if r["result"] == "NOTIFIED" and r["order_id"] == oid
        )
        ev = {
            e["event"]: e["event_time"].date()
            for e in records(world2, "BOCSZ", "CARDSTATUS")
            if e["card_id"] == n["card_id"]
        }
        deadline = add_months_clamped(n["event_date"], 6)
        assert ev["PICKUP_REMINDER"] == deadline - timedelta(days=30)
        assert ev["CUT_CLOSED"] == deadline + timedelta(days=1)
        if carrier == "DEBIT":  # reissued at the branch on application, a few days later
            assert (
                set(ev) == {"PICKUP_REMINDER", "CUT_CLOSED", "REISSUED"} and ev["REISSUED"] > ev["CUT_CLOSED"]
            )
        else:  # a cut CREDIT card is never reissued
            assert set(ev) == {"PICKUP_REMINDER", "CUT_CLOSED"}
    assert notified["event_date"] < date(2027, 1, 1)


def test_a_bank_file_sva_rejects_is_sent_again_in_the_next_seq_and_an_accepted_one_never(tmp_path):
    world = make_world(tmp_path, bank=QUIET_BANK)
    world.run_day(D0)
    status = outbox(world, "BOCSZ", "CARDSTATUS")[0]
    swipe = outbox(world, "BOCSZ", "SWIPE")[0]
    sha = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (world.root / "BOCSZ/outbox").iterdir()
    }
    ack = [
        {"original_file_name": status.name, "sha256": sha[status.name], "status": "REJECTED", "error_code": "E02",
         "error_text": "bad signature"},
        {"original_file_name": swipe.name, "sha256": sha[swipe.name], "status": "ACCEPTED", "error_code": None,
         "error_text": ""},
    ]  # fmt: skip
    d1 = D0 + timedelta(days=1)
    put(world, "BOCSZ", *plain_file("ACK", "BOCSZ", d1, ack))
    world.run_day(d1)
    world.run_day(d1 + timedelta(days=1))
    names = [g.name for g in outbox(world, "BOCSZ", "CARDSTATUS")]
    assert names[:2] == ["CARDSTATUS_BOCSZ_20261130_001.txt.p7m", "CARDSTATUS_BOCSZ_20261130_002.txt.p7m"]
    assert len([g for g in outbox(world, "BOCSZ", "SWIPE") if g.header.business_date == D0]) == 1
    assert acks(world, "BOCSZ") == {}  # an ACK is never acknowledged
    sent = dict((n, s) for n, s, _ in world.bank.sent_files())
    assert sent[status.name] == "REJECTED" and sent[swipe.name] == "ACCEPTED"
    again = outbox(world, "BOCSZ", "CARDSTATUS")[1]
    assert again.records == status.records and again.header.seq == 2

    # rejected again and again: the bank tries twice more at most, then stops
    for n, d in ((2, d1 + timedelta(days=2)), (3, d1 + timedelta(days=3))):
        name = f"CARDSTATUS_BOCSZ_20261130_{n:03d}.txt.p7m"
        digest = hashlib.sha256((world.root / "BOCSZ/outbox" / name).read_bytes()).hexdigest()
        rejected = {"original_file_name": name, "sha256": digest, "status": "REJECTED", "error_code": "E04",
                    "error_text": "control sum"}  # fmt: skip
        put(world, "BOCSZ", *plain_file("ACK", "BOCSZ", d, [rejected]))
        world.run_day(d)
    assert [g.header.seq for g in outbox(world, "BOCSZ", "CARDSTATUS") if g.header.business_date == D0] == [
        1,
        2,
        3,
    ]


def test_same_seed_same_files(tmp_path):
    rates = replace(QUIET_BANK, reversal_rate=0.2, refund_rate=0.1, collect_days=(0, 3))
    outs = []
    for k in (1, 2):
        world = make_world(tmp_path / f"w{k}", seed=42, bank=rates)
        put(world, "BOCSZ", *order_package(D0, [order_line(f"S{i}", f"20190001{i:02d}") for i in range(5)]))
        _run(world, D0, D0 + timedelta(days=35))
        outs.append((records(world, "BOCSZ", "CARDRESULT"), records(world, "BOCSZ", "SWIPE")))
    assert outs[0] == outs[1]
    assert outs[0][1]
