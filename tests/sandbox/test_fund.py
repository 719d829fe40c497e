"""The sandbox fund (fund.md): DONATIONEXP acknowledged, the bank's transfer booked in DONATION."""

from __future__ import annotations

from datetime import date

from sandbox.clock import days
from sandbox.fund import FundRates
from tests.sandbox.world_kit import acks, make_world, outbox, plain_file, put

TRANSFER = {"2019004417": 290, "2016001203": 120, "2019000003": -10}


def _exp(vol: str, p: int, r: int) -> dict:
    return {
        "volunteer_no": vol,
        "period": "202701",
        "purchase_count": p,
        "reversal_count": r,
        "expected_fen": 10 * (p - r),
    }


def test_donationexp_is_acknowledged_and_the_fund_books_what_the_bank_transferred(tmp_path):
    world = make_world(tmp_path, fund=FundRates(short_rate=0, over_rate=0, missing_rate=0, split_rate=0))
    world.fund.transfers = lambda period: TRANSFER if period == "202701" else {}
    name, plain = plain_file(
        "DONATIONEXP", "SZVF", date(2027, 2, 3), [_exp("2019004417", 31, 2), _exp("0000000000", 4, 0)]
    )
    put(world, "SZVF", name, plain)
    for d in days(date(2027, 2, 1), date(2027, 2, 12)):
        world.fund.run_day(d)

    assert acks(world, "SZVF")[name + ".p7m"]["status"] == "ACCEPTED"
    (donation,) = outbox(world, "SZVF", "DONATION")  # once a month, on the booking day
    assert donation.header.business_date == date(2027, 2, 8)
    assert {r["volunteer_no"]: r["amount_fen"] for r in donation.records} == TRANSFER  # a negative month too
    assert all(r["period"] == "202701" and r["received_date"] == date(2027, 2, 8) for r in donation.records)


def test_short_over_missing_and_split_bookings_add_up_per_volunteer(tmp_path):
    transfer = {f"20190{i:05d}": 10 * (i + 1) for i in range(200)}
    rates = FundRates(short_rate=0.1, over_rate=0.1, missing_rate=0.1, split_rate=0.2)
    world = make_world(tmp_path, seed=3, fund=rates)
    world.fund.transfers = lambda period: transfer
    world.fund.run_day(date(2027, 3, 9))
    (donation,) = outbox(world, "SZVF", "DONATION")
    booked: dict[str, int] = {}
    for r in donation.records:
        booked[r["volunteer_no"]] = booked.get(r["volunteer_no"], 0) + r["amount_fen"]
    assert booked == world.fund.booked("202702")
    assert len({r["receipt_id"] for r in donation.records}) == len(donation.records)
    missing = set(transfer) - set(booked)
    short = {v for v in booked if booked[v] < transfer[v]}
    over = {v for v in booked if booked[v] > transfer[v]}
    several = {v for v in booked if sum(r["volunteer_no"] == v for r in donation.records) > 1}
    assert missing and short and over and several
    assert any(r["amount_fen"] < 0 for r in donation.records)  # a negative correction
    assert 100 < len(set(transfer) - missing - short - over) < 200


def test_in_the_world_the_fund_books_what_the_sandbox_bank_swiped(tmp_path):
    from tests.sandbox.world_kit import QUIET_BANK, order_line, order_package

    world = make_world(
        tmp_path, bank=QUIET_BANK, fund=FundRates(short_rate=0, over_rate=0, missing_rate=0, split_rate=0)
    )
    d0 = date(2026, 12, 14)
    put(world, "BOCSZ", *order_package(d0, [order_line("F1", "2019005001"), order_line("F2", "2019005002")]))
    for d in days(d0, date(2027, 2, 8)):
        world.run_day(d)
    january = world.bank.monthly_transfer("202701")
    assert set(january) == {"2019005001", "2019005002"} and all(v > 0 for v in january.values())
    booked = [g for g in outbox(world, "SZVF", "DONATION") if g.header.business_date == date(2027, 2, 8)]
    assert {r["volunteer_no"]: r["amount_fen"] for r in booked[0].records} == january
