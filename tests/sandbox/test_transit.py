"""The sandbox Shenzhen Tong (transit.md): TRANSITREQ in, ACK and TRANSITACK out."""

from __future__ import annotations

from datetime import date, timedelta

from sandbox.transit import TransitRates
from tests.sandbox.world_kit import acks, make_world, outbox, plain_file, put, raw_lines_file, records

D = date(2027, 1, 12)


def _req(rid: str, action: str, card: str, vol: str = "2019004417", on: date = D) -> dict:
    return {"request_id": rid, "action": action, "card_id": card, "volunteer_no": vol, "effective_date": on}


def test_every_valid_request_is_answered_once(tmp_path):
    world = make_world(tmp_path, transit=TransitRates(blocked_rate=0.0))
    world.transit.knows_card = lambda card: not card.startswith("ZZ")
    card = "K7Q2M9X4B1C8D3E5"
    name, plain = plain_file(
        "TRANSITREQ", "SZT", D,
        [_req("TR1", "ENABLE", card), _req("TR2", "ENABLE", card), _req("TR3", "ENABLE", "ZZ00000000000000"),
         _req("TR4", "DISABLE", "A000000000000001")],
    )  # fmt: skip
    put(world, "SZT", name, plain)
    world.transit.run_day(D)

    assert acks(world, "SZT")[name + ".p7m"]["status"] == "ACCEPTED"
    (ack_file,) = outbox(world, "SZT", "TRANSITACK")
    assert ack_file.header.business_date == D
    got = {
        r["request_id"]: (r["result"], r["reason_code"], r["transit_account_no"]) for r in ack_file.records
    }
    account = got["TR1"][2]
    assert account is not None and len(account) == 12 and account.isdigit()
    assert got == {
        "TR1": ("OK", None, account),
        "TR2": ("FAILED", "T02", None),  # already enabled
        "TR3": ("FAILED", "T01", None),  # a card SZT does not know
        "TR4": ("FAILED", "T02", None),  # never enabled: already off
    }
    assert world.transit.enabled(card)

    # next day: a resend of TR1 in a new file is not answered again; DISABLE switches off
    d1 = D + timedelta(days=1)
    name2, plain2 = plain_file(
        "TRANSITREQ", "SZT", d1, [_req("TR1", "ENABLE", card, on=d1), _req("TR5", "DISABLE", card, on=d1)]
    )
    put(world, "SZT", name2, plain2)
    world.transit.run_day(d1)
    second = outbox(world, "SZT", "TRANSITACK")[1]
    assert [(r["request_id"], r["result"], r["transit_account_no"]) for r in second.records] == [
        ("TR5", "OK", None)
    ]
    assert not world.transit.enabled(card)
    world.transit.run_day(d1 + timedelta(days=1))
    assert outbox(world, "SZT", "TRANSITACK")[2].records == []  # every day, empty when nothing was asked


def test_a_record_error_is_acknowledged_and_never_answered(tmp_path):
    world = make_world(tmp_path, transit=TransitRates(blocked_rate=1.0))
    world.transit.knows_card = None  # every well-formed card id is known
    name, plain = raw_lines_file(
        "TRANSITREQ", "SZT", D,
        ["D|TR1|ENABLE|K7Q2M9X4B1C8D3E5|2019004417|20270112", "D|TR2|ENABLE|K7Q2M9X4B1C8D3E5|2019004417|20270111"],
    )  # fmt: skip
    put(world, "SZT", name, plain)
    world.run_day(D)
    ack = acks(world, "SZT")[name + ".p7m"]
    assert (ack["status"], ack["error_code"], ack["error_text"]) == (
        "PARTIAL",
        "E07",
        "line:3:effective_date:before business date",
    )
    assert [(r["request_id"], r["reason_code"]) for r in records(world, "SZT", "TRANSITACK")] == [
        ("TR1", "T03")
    ]


def test_an_answer_file_may_be_sent_twice_with_the_same_answers(tmp_path):
    world = make_world(tmp_path, transit=TransitRates(blocked_rate=0.0, resend_rate=1.0))
    world.transit.knows_card = None
    put(world, "SZT", *plain_file("TRANSITREQ", "SZT", D, [_req("TR9", "ENABLE", "K7Q2M9X4B1C8D3E5")]))
    world.transit.run_day(D)
    first, second = outbox(world, "SZT", "TRANSITACK")
    assert (first.header.seq, second.header.seq) == (1, 2) and first.records == second.records
