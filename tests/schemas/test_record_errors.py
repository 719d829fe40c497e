"""Record errors: one per field rule of the specs' tables, on hand-written lines.

Each case takes a valid record of the type (the spec's example), changes some fields,
and expects exactly the listed ``line:<n>:<field>:<reason>`` entries; the valid record
on the next line must still come through.
"""

from __future__ import annotations

import re

import pytest

from schemas import TYPES
from tests.schemas.helpers import build, outcome

# type -> (header, file name, a valid record as {field: text})
VALID = {
    "CARDORDER": (
        "H|CARDORDER|1.0|SVA|BOCSZ|20261130|001|20261130010002",
        "CARDORDER_SVA_20261130_001.txt",
        "O20261130000001|NEW|2019004417|刘德华|RIC|440303198506120872|M|19850612|13760012345|"
        "深圳市罗湖区东门北路1001号|刘丽|13922223333|CREDIT|44003|photos/O20261130000001.jpg|",
    ),
    "CARDREQ": (
        "H|CARDREQ|1.0|SVA|BOCSZ|20270110|001|20270110010001",
        "CARDREQ_SVA_20270110_001.txt",
        "Q2027011000001|LOSS_REPORT|Z1Y2X3W4V5U6T7S8||2016001203|20270109183512|志愿者在平台挂失",
    ),
    "CARDRESULT": (
        "H|CARDRESULT|1.0|BOCSZ|SVA|20261215|001|20261216052011",
        "CARDRESULT_BOCSZ_20261215_001.txt",
        "O20261130000001|2019004417|PRODUCED|||K7Q2M9X4B1C8D3E5|621785******4417|203112|44003|20261214",
    ),
    "CARDSTATUS": (
        "H|CARDSTATUS|1.0|BOCSZ|SVA|20270110|001|20270111050500",
        "CARDSTATUS_BOCSZ_20270110_001.txt",
        "S2027011000000103|Z1Y2X3W4V5U6T7S8|2016001203|REISSUED|20270110201830|HOTLINE|"
        "P9O8N7M6L5K4J3H2|621785******1203|203201|",
    ),
    "SWIPE": (
        "H|SWIPE|1.0|BOCSZ|SVA|20270111|001|20270112044501",
        "SWIPE_BOCSZ_20270111_001.txt",
        "T20270111000000000000003|K7Q2M9X4B1C8D3E5|2019004417|20270111123507|REVERSAL|"
        "T20270111000000000000002|QR|5411|-10",
    ),
    "TRANSITREQ": (
        "H|TRANSITREQ|1.0|SVA|SZT|20270112|001|20270112020001",
        "TRANSITREQ_SVA_20270112_001.txt",
        "TR2027011200001|ENABLE|K7Q2M9X4B1C8D3E5|2019004417|20270112",
    ),
    "TRANSITACK": (
        "H|TRANSITACK|1.0|SZT|SVA|20270112|001|20270112064510",
        "TRANSITACK_SZT_20270112_001.txt",
        "TR2027011200001|OK||310000417726|20270112",
    ),
    "DONATIONEXP": (
        "H|DONATIONEXP|1.0|SVA|SZVF|20270203|001|20270203030000",
        "DONATIONEXP_SVA_20270203_001.txt",
        "2019004417|202701|31|2|290",
    ),
    "DONATION": (
        "H|DONATION|1.0|SZVF|SVA|20270208|001|20270208100000",
        "DONATION_SZVF_20270208_001.txt",
        "R2027020800000001|2019004417|202701|290|20270207",
    ),
    "INSROSTER": (
        "H|INSROSTER|1.0|SVA|BOCINS|20270112|001|20270112030000",
        "INSROSTER_SVA_20270112_001.txt",
        "2019004417|刘德华|RIC|440303198506120872|19850612|20261127|",
    ),
    "ACK": (
        "H|ACK|1.0|SVA|BOCSZ|20270112|001|20270112061503",
        "ACK_SVA_20270112_001.txt",
        "SWIPE_BOCSZ_20270110_001.txt.p7m|" + "9a" * 32 + "|PARTIAL|E07|line:5:mcc:not four digits",
    ),
}

RIC_2016_F = "440305201601010020"  # a girl born 1 January 2016 (check character computed below)


def _ric(body17: str) -> str:
    from schemas.rules import ric_check_character

    return body17 + ric_check_character(body17)


CASES = [
    # bank.md, CARDORDER
    ("CARDORDER", {"order_id": "o1"}, ["order_id:not 1 to 20 of A-Z0-9"]),
    ("CARDORDER", {"order_type": "RENEWAL"}, ["order_type:not an allowed value"]),
    ("CARDORDER", {"volunteer_no": "201900441"}, ["volunteer_no:not ten digits"]),
    ("CARDORDER", {"name": ""}, ["name:required"]),
    ("CARDORDER", {"name": "张" * 31}, ["name:not 1 to 30 characters"]),
    ("CARDORDER", {"id_type": "ID"}, ["id_type:not an allowed value"]),
    ("CARDORDER", {"id_number": "440303198506120873"}, ["id_number:check character wrong"]),
    ("CARDORDER", {"id_number": "44030319850612087x"}, ["id_number:not 5 to 20 of A-Z0-9"]),
    (
        "CARDORDER",
        {"id_number": _ric("44030319850230123"), "birth_date": "19850230"},
        ["id_number:birth date in number not a real date", "birth_date:not a real date"],
    ),
    ("CARDORDER", {"id_type": "PASSPORT", "id_number": "E1234"}, []),
    ("CARDORDER", {"id_type": "HKMO", "id_number": "H123"}, ["id_number:not 5 to 20 of A-Z0-9"]),
    ("CARDORDER", {"gender": "F"}, ["gender:gender disagrees with id number"]),
    ("CARDORDER", {"birth_date": "19850613"}, ["birth_date:birth date disagrees with id number"]),
    (
        "CARDORDER",
        {"id_number": _ric("44030520161201002"), "birth_date": "20161201", "gender": "F", "carrier": "DEBIT"},
        ["birth_date:under 10 on business date"],
    ),  # fmt: skip
    (
        "CARDORDER",
        {"id_number": _ric("44030520081201002"), "birth_date": "20081201", "gender": "F"},
        ["carrier:CREDIT needs age 18 on business date"],
    ),
    (
        "CARDORDER",
        {"id_number": _ric("44030520081201002"), "birth_date": "20081201", "gender": "F", "carrier": "DEBIT"},
        [],
    ),  # fmt: skip
    ("CARDORDER", {"mobile": "12760012345"}, ["mobile:not a mainland mobile number"]),
    ("CARDORDER", {"emergency_mobile": "1376001234"}, ["emergency_mobile:not a mainland mobile number"]),
    ("CARDORDER", {"address": "深" * 101}, ["address:not 1 to 100 characters"]),
    ("CARDORDER", {"carrier": "PREPAID"}, ["carrier:not an allowed value"]),
    ("CARDORDER", {"branch_code": "44099"}, ["branch_code:not a branch code of branches.csv"]),
    ("CARDORDER", {"photo": "photos/O1.jpg"}, ["photo:not photos/ then order_id then .jpg"]),
    ("CARDORDER", {"replaces_card_id": "K7Q2M9X4B1C8D3E5"}, ["replaces_card_id:only for RENEW"]),
    ("CARDORDER", {"order_type": "RENEW"}, ["replaces_card_id:required for RENEW"]),
    ("CARDORDER", {"order_type": "RENEW", "replaces_card_id": "K7Q2M9X4B1C8D3E5"}, []),
    ("CARDORDER", {"name": "刘\x07德华"}, ["name:control character or separator"]),
    # bank.md, CARDREQ
    ("CARDREQ", {"card_id": ""}, ["card_id:required for LOSS_REPORT"]),
    ("CARDREQ", {"order_id": "O1"}, ["order_id:only for CANCEL_ORDER"]),
    (
        "CARDREQ",
        {"request_type": "CANCEL_ORDER"},
        ["card_id:only for LOSS_REPORT", "order_id:required for CANCEL_ORDER"],
    ),
    ("CARDREQ", {"request_type": "CANCEL_ORDER", "card_id": "", "order_id": "O20261130000001"}, []),
    ("CARDREQ", {"request_time": "20270109250000"}, ["request_time:not a real time"]),
    ("CARDREQ", {"reason": ""}, []),
    ("CARDREQ", {"reason": "丢" * 101}, ["reason:more than 100 characters"]),
    # bank.md, CARDRESULT
    (
        "CARDRESULT",
        {"result": "ACCEPTED"},
        [
            "card_id:only for PRODUCED or NOTIFIED",
            "masked_pan:only for PRODUCED or NOTIFIED",
            "expiry:only for PRODUCED or NOTIFIED",
        ],
    ),  # fmt: skip
    ("CARDRESULT", {"result": "ACCEPTED", "card_id": "", "masked_pan": "", "expiry": ""}, []),
    ("CARDRESULT", {"masked_pan": "6217851234560123"}, ["masked_pan:not a masked card number"]),
    ("CARDRESULT", {"masked_pan": "621785*****40123"}, ["masked_pan:not a masked card number"]),
    ("CARDRESULT", {"card_id": ""}, ["card_id:required for PRODUCED or NOTIFIED"]),
    ("CARDRESULT", {"expiry": "203113"}, ["expiry:not YYYYMM"]),
    ("CARDRESULT", {"reason_code": "R02"}, ["reason_code:only for REJECTED"]),
    (
        "CARDRESULT",
        {"result": "REJECTED", "card_id": "", "masked_pan": "", "expiry": ""},
        ["reason_code:required for REJECTED"],
    ),
    (
        "CARDRESULT",
        {"result": "REJECTED", "reason_code": "R08", "card_id": "", "masked_pan": "", "expiry": ""},
        ["reason_code:not an allowed value"],
    ),  # fmt: skip
    ("CARDRESULT", {"event_date": "20261216"}, ["event_date:after business date"]),
    ("CARDRESULT", {"event_date": "20261215"}, []),
    ("CARDRESULT", {"branch_code": "4400"}, ["branch_code:not a branch code"]),
    # bank.md, CARDSTATUS
    (
        "CARDSTATUS",
        {"event": "COLLECTED"},
        ["new_card_id:only for REISSUED", "new_masked_pan:only for REISSUED", "new_expiry:only for REISSUED"],
    ),  # fmt: skip
    ("CARDSTATUS", {"new_expiry": ""}, ["new_expiry:required for REISSUED"]),
    ("CARDSTATUS", {"event_time": "20270110235959"}, []),
    ("CARDSTATUS", {"event_time": "20270111000000"}, ["event_time:after end of business date"]),
    ("CARDSTATUS", {"channel": "APP"}, ["channel:not an allowed value"]),
    ("CARDSTATUS", {"event": "FROZEN"}, ["event:not an allowed value"]),
    # bank.md, SWIPE
    ("SWIPE", {"txn_time": "20270110235959"}, ["txn_time:not within business date"]),
    ("SWIPE", {"txn_time": "20270112000000"}, ["txn_time:not within business date"]),
    ("SWIPE", {"txn_time": "2027011112350"}, ["txn_time:not YYYYMMDDHHMMSS"]),
    ("SWIPE", {"orig_txn_id": ""}, ["orig_txn_id:required for REVERSAL"]),
    ("SWIPE", {"txn_type": "PURCHASE", "donation_fen": "10"}, ["orig_txn_id:only for REVERSAL"]),
    ("SWIPE", {"mcc": "541"}, ["mcc:not four digits"]),
    ("SWIPE", {"donation_fen": "-010"}, ["donation_fen:not an integer"]),
    ("SWIPE", {"card_id": "k7q2m9x4b1c8d3e5"}, ["card_id:not 16 of A-Z0-9"]),
    ("SWIPE", {"txn_id": "T" * 25}, ["txn_id:not 1 to 24 of A-Z0-9"]),
    ("SWIPE", {"channel": "ATM", "mcc": "54a1"}, ["channel:not an allowed value", "mcc:not four digits"]),
    # transit.md
    ("TRANSITREQ", {"effective_date": "20270111"}, ["effective_date:before business date"]),
    ("TRANSITREQ", {"effective_date": "20270301"}, []),
    ("TRANSITREQ", {"action": "TOGGLE"}, ["action:not an allowed value"]),
    ("TRANSITACK", {"reason_code": "T02"}, ["reason_code:only for FAILED"]),
    ("TRANSITACK", {"result": "FAILED", "transit_account_no": ""}, ["reason_code:required for FAILED"]),
    ("TRANSITACK", {"result": "FAILED", "reason_code": "T01"}, ["transit_account_no:only for OK"]),
    ("TRANSITACK", {"result": "FAILED", "reason_code": "T01", "transit_account_no": ""}, []),
    ("TRANSITACK", {"transit_account_no": "31000041772"}, ["transit_account_no:not twelve digits"]),
    # fund.md
    ("DONATIONEXP", {"expected_fen": "300"}, ["expected_fen:not 10 times purchases minus reversals"]),
    ("DONATIONEXP", {"purchase_count": "1", "reversal_count": "3", "expected_fen": "-20"}, []),
    ("DONATIONEXP", {"period": "202713"}, ["period:not YYYYMM"]),
    ("DONATIONEXP", {"purchase_count": "-1"}, ["purchase_count:not a whole number"]),
    ("DONATIONEXP", {"volunteer_no": "0000000000"}, []),
    ("DONATION", {"amount_fen": "-50"}, []),
    ("DONATION", {"amount_fen": "12.5"}, ["amount_fen:not an integer"]),
    ("DONATION", {"received_date": "20270230"}, ["received_date:not a real date"]),
    ("DONATION", {"receipt_id": ""}, ["receipt_id:required"]),
    # insurer.md
    ("INSROSTER", {"cover_to": "20261126"}, ["cover_to:before cover_from"]),
    ("INSROSTER", {"cover_to": "20270101"}, []),
    ("INSROSTER", {"birth_date": "19850611"}, ["birth_date:birth date disagrees with id number"]),
    ("INSROSTER", {"id_type": "PASSPORT", "id_number": "E12345678", "birth_date": "19790302"}, []),
    ("INSROSTER", {"cover_from": "20270113"}, ["cover_from:after business date"]),
    # README.md, ACK
    ("ACK", {"status": "ACCEPTED"}, ["error_code:only when not ACCEPTED"]),
    ("ACK", {"status": "ACCEPTED", "error_code": "", "error_text": ""}, []),
    ("ACK", {"status": "REJECTED", "error_code": "E07"}, ["error_code:E01 to E06 required for REJECTED"]),
    ("ACK", {"error_text": ""}, ["error_text:required for PARTIAL"]),
    ("ACK", {"sha256": "9A" * 32}, ["sha256:not lower-case hex SHA-256"]),
    ("ACK", {"error_text": "x" * 1001}, ["error_text:more than 1000 characters"]),
]


def _line(file_type: str, changes: dict[str, str]) -> str:
    names = TYPES[file_type].field_names
    values = dict(zip(names, VALID[file_type][2].split("|"), strict=True))
    values.update(changes)
    return "D|" + "|".join(values[n] for n in names)


def _ids(case):
    return f"{case[0]}-{'-'.join(case[1])}"


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "schema"])
@pytest.mark.parametrize("file_type,changes,expected", CASES, ids=[_ids(c) for c in CASES])
def test_record_error_names_line_field_and_rule(file_type, changes, expected, fast):
    header, name, _ = VALID[file_type]
    data = build(header, [_line(file_type, changes), _line(file_type, {})], trailer="auto")
    records, errors, exc = outcome(data, name, fast=fast)
    assert exc is None
    assert [str(e) for e in errors] == [f"line:2:{e}" for e in expected]
    # The valid record on line 3 is not affected by the bad one on line 2.
    assert [r.line for r in records] == ([2, 3] if not expected else [3])


def test_every_type_has_a_valid_example_and_cases():
    assert set(VALID) == set(TYPES)
    assert {c[0] for c in CASES} == set(TYPES)


def test_reasons_carry_no_forbidden_characters_or_values():
    for _file_type, changes, expected in CASES:
        for entry in expected:
            field, reason = entry.split(":", 1)
            assert not set(reason) & set(";:|")
            for value in changes.values():
                spec_word = re.fullmatch(r"[A-Z_]+", value) is not None  # an enumeration word
                if len(value) > 3 and not spec_word:
                    assert value not in reason


def test_age_rule_counts_29_february_as_1_march_in_common_years():
    # Born 29 Feb 2016: on 28 Feb 2026 not yet 10, on 1 Mar 2026 ten.
    body = "44030520160229002"
    from schemas.rules import ric_check_character

    number = body + ric_check_character(body)
    changes = {"id_number": number, "birth_date": "20160229", "gender": "F", "carrier": "DEBIT"}
    for bdate, expected in (("20260228", ["birth_date:under 10 on business date"]), ("20260301", [])):
        header = f"H|CARDORDER|1.0|SVA|BOCSZ|{bdate}|001|{bdate}010002"
        name = f"CARDORDER_SVA_{bdate}_001.txt"
        records, errors, exc = outcome(build(header, [_line("CARDORDER", changes)]), name)
        assert exc is None
        assert [str(e) for e in errors] == [f"line:2:{e}" for e in expected]
