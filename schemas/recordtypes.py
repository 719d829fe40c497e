"""Every record type of the partner specs, grouped by spec: its fields in file order and
its record rules. This table is the single source of the rules.

What a record type and a record rule are, and the rules several types share, are in
``schemas.record_type`` (importable from here too). ``schemas.validate`` builds from
each type both its marshmallow schema and the fast path's compiled line pattern; the
writer checks with the same schema. ``register`` adds the record type of a partner
beyond the specs' five.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from schemas import rules
from schemas.fields import (
    BRANCH,
    CARD_ID,
    COUNT,
    DATE,
    ID_NUMBER,
    INTEGER,
    MASKED_PAN,
    MOBILE,
    MONTH,
    SHA256,
    TIME,
    VOLUNTEER_NO,
    code,
    digits,
    enum,
    text,
)
from schemas.record_type import (
    Context,
    F,
    Problem,
    RecordType,
    bound,
    branch_known,
    id_number_rule,
    not_after_business_date,
    present_only_when,
    ric_birth_date,
    ric_gender,
    rule,
)

# ---- bank.md -------------------------------------------------------------------------


@rule("birth_date")
def min_age(d: dict[str, Any], ctx: Context) -> Problem:
    if d["birth_date"] > ctx.business_date:
        return "birth_date", "after business date"
    if rules.age_on(d["birth_date"], ctx.business_date) < rules.MIN_AGE:
        return "birth_date", f"under {rules.MIN_AGE} on business date"
    return None


@rule("carrier", "birth_date")
def credit_age(d: dict[str, Any], ctx: Context) -> Problem:
    if d["carrier"] == "CREDIT" and d["birth_date"] <= ctx.business_date:
        if rules.age_on(d["birth_date"], ctx.business_date) < rules.CREDIT_MIN_AGE:
            return "carrier", f"CREDIT needs age {rules.CREDIT_MIN_AGE} on business date"
    return None


@rule("order_id", "photo")
def photo_name(d: dict[str, Any], ctx: Context) -> Problem:
    if d["photo"] != f"photos/{d['order_id']}.jpg":
        return "photo", "not photos/ then order_id then .jpg"
    return None


CARDORDER = RecordType(
    "CARDORDER",
    (
        F("order_id", code(1, 20)),
        F("order_type", enum("RENEW", "NEW")),
        F("volunteer_no", VOLUNTEER_NO),
        F("name", text(1, 30)),
        F("id_type", enum(*rules.ID_TYPES)),
        F("id_number", ID_NUMBER),
        F("gender", enum("M", "F")),
        F("birth_date", DATE),
        F("mobile", MOBILE),
        F("address", text(1, 100)),
        F("emergency_name", text(1, 30)),
        F("emergency_mobile", MOBILE),
        F("carrier", enum("DEBIT", "CREDIT")),
        F("branch_code", BRANCH),
        F("photo", text(1, 40)),
        F("replaces_card_id", CARD_ID, "rule"),
    ),
    (
        id_number_rule,
        ric_gender,
        ric_birth_date,
        min_age,
        credit_age,
        branch_known,
        photo_name,
        present_only_when("replaces_card_id", "order_type", ("RENEW",)),
    ),
    directions=frozenset({("SVA", "BOCSZ")}),
    ext="zip",
)

CARDREQ = RecordType(
    "CARDREQ",
    (
        F("request_id", code(1, 20)),
        F("request_type", enum("LOSS_REPORT", "CANCEL_ORDER")),
        F("card_id", CARD_ID, "rule"),
        F("order_id", code(1, 20), "rule"),
        F("volunteer_no", VOLUNTEER_NO),
        F("request_time", TIME),
        F("reason", text(0, 100), "text"),
    ),
    (
        present_only_when("card_id", "request_type", ("LOSS_REPORT",)),
        present_only_when("order_id", "request_type", ("CANCEL_ORDER",)),
    ),
    directions=frozenset({("SVA", "BOCSZ")}),
)

CARDRESULT = RecordType(
    "CARDRESULT",
    (
        F("order_id", code(1, 20)),
        F("volunteer_no", VOLUNTEER_NO),
        F("result", enum("ACCEPTED", "REJECTED", "PRODUCED", "NOTIFIED")),
        F("reason_code", enum("R01", "R02", "R03", "R04", "R05", "R06", "R07", "R99"), "rule"),
        F("reason_text", text(0, 100), "text"),
        F("card_id", CARD_ID, "rule"),
        F("masked_pan", MASKED_PAN, "rule"),
        F("expiry", MONTH, "rule"),
        F("branch_code", BRANCH),
        F("event_date", DATE),
    ),
    (
        present_only_when("reason_code", "result", ("REJECTED",)),
        *(
            present_only_when(f, "result", ("PRODUCED", "NOTIFIED"))
            for f in ("card_id", "masked_pan", "expiry")
        ),
        branch_known,
        not_after_business_date("event_date"),
    ),
    directions=frozenset({("BOCSZ", "SVA")}),
)


CARDSTATUS = RecordType(
    "CARDSTATUS",
    (
        F("event_id", code(1, 20)),
        F("card_id", CARD_ID),
        F("volunteer_no", VOLUNTEER_NO),
        F(
            "event",
            enum(
                "COLLECTED",
                "PICKUP_REMINDER",
                "CUT_CLOSED",
                "LOST_REPORTED",
                "DAMAGED_REPORTED",
                "REISSUED",
                "EXPIRING",
                "EXPIRED",
                "ACCOUNT_CLOSED",
            ),
        ),
        F("event_time", TIME),
        F("channel", enum("BRANCH", "HOTLINE", "PLATFORM", "SYSTEM")),
        F("new_card_id", CARD_ID, "rule"),
        F("new_masked_pan", MASKED_PAN, "rule"),
        F("new_expiry", MONTH, "rule"),
        F("detail", text(0, 100), "text"),
    ),
    (
        bound("event_time", "time_by_day_end"),
        *(
            present_only_when(f, "event", ("REISSUED",))
            for f in ("new_card_id", "new_masked_pan", "new_expiry")
        ),
    ),
    directions=frozenset({("BOCSZ", "SVA")}),
)


SWIPE = RecordType(
    "SWIPE",
    (
        F("txn_id", code(1, 24)),
        F("card_id", CARD_ID),
        F("volunteer_no", VOLUNTEER_NO),
        F("txn_time", TIME),
        F("txn_type", enum("PURCHASE", "REFUND", "REVERSAL")),
        F("orig_txn_id", code(1, 24), "rule"),
        F("channel", enum("POS", "QR", "ONLINE")),
        F("mcc", digits(4)),
        F("donation_fen", INTEGER),
    ),
    (
        bound("txn_time", "time_on_day"),
        present_only_when("orig_txn_id", "txn_type", ("REVERSAL",)),
    ),
    money_field="donation_fen",
    directions=frozenset({("BOCSZ", "SVA")}),
)


# ---- transit.md ----------------------------------------------------------------------


TRANSITREQ = RecordType(
    "TRANSITREQ",
    (
        F("request_id", code(1, 20)),
        F("action", enum("ENABLE", "DISABLE")),
        F("card_id", CARD_ID),
        F("volunteer_no", VOLUNTEER_NO),
        F("effective_date", DATE),
    ),
    (bound("effective_date", "date_not_before"),),
    directions=frozenset({("SVA", "SZT")}),
)


@rule("result", "transit_account_no")
def account_only_ok(d: dict[str, Any], ctx: Context) -> Problem:
    # The ENABLE/DISABLE half of the rule needs the request: adapters.transit.records
    # .account_problem checks it, and the TRANSITACK handler records it as a record error.
    if d["result"] == "FAILED" and d["transit_account_no"] is not None:
        return "transit_account_no", "only for OK"
    return None


TRANSITACK = RecordType(
    "TRANSITACK",
    (
        F("request_id", code(1, 20)),
        F("result", enum("OK", "FAILED")),
        F("reason_code", enum("T01", "T02", "T03", "T99"), "rule"),
        F("transit_account_no", digits(12), "rule"),
        F("processed_date", DATE),
    ),
    (present_only_when("reason_code", "result", ("FAILED",)), account_only_ok),
    directions=frozenset({("SZT", "SVA")}),
)


# ---- fund.md -------------------------------------------------------------------------


@rule("purchase_count", "reversal_count", "expected_fen")
def expected_is_ten_per_net_purchase(d: dict[str, Any], ctx: Context) -> Problem:
    if d["expected_fen"] != 10 * (d["purchase_count"] - d["reversal_count"]):
        return "expected_fen", "not 10 times purchases minus reversals"
    return None


DONATIONEXP = RecordType(
    "DONATIONEXP",
    (
        F("volunteer_no", VOLUNTEER_NO),
        F("period", MONTH),
        F("purchase_count", COUNT),
        F("reversal_count", COUNT),
        F("expected_fen", INTEGER),
    ),
    (expected_is_ten_per_net_purchase,),
    money_field="expected_fen",
    directions=frozenset({("SVA", "SZVF")}),
)

DONATION = RecordType(
    "DONATION",
    (
        F("receipt_id", code(1, 24)),
        F("volunteer_no", VOLUNTEER_NO),
        F("period", MONTH),
        F("amount_fen", INTEGER),
        F("received_date", DATE),
    ),
    money_field="amount_fen",
    directions=frozenset({("SZVF", "SVA")}),
)


# ---- insurer.md ----------------------------------------------------------------------


@rule("cover_from", "cover_to")
def cover_in_order(d: dict[str, Any], ctx: Context) -> Problem:
    if d["cover_to"] is not None and d["cover_to"] < d["cover_from"]:
        return "cover_to", "before cover_from"
    return None


INSROSTER = RecordType(
    "INSROSTER",
    (
        F("volunteer_no", VOLUNTEER_NO),
        F("name", text(1, 30)),
        F("id_type", enum(*rules.ID_TYPES)),
        F("id_number", ID_NUMBER),
        F("birth_date", DATE),
        F("cover_from", DATE),
        F("cover_to", DATE, "rule"),
    ),
    (
        id_number_rule,
        ric_birth_date,
        *(not_after_business_date(f) for f in ("birth_date", "cover_from", "cover_to")),
        cover_in_order,
    ),
    directions=frozenset({("SVA", "BOCINS")}),
)


# ---- README.md: ACK ------------------------------------------------------------------


ACK_TEXT_MAX = 1000


@rule("status", "error_code", "error_text")
def ack_code_by_status(d: dict[str, Any], ctx: Context) -> Problem:
    status, code_, text_ = d["status"], d["error_code"], d["error_text"]
    if status == "ACCEPTED":
        if code_ is not None:
            return "error_code", "only when not ACCEPTED"
        if text_:
            return "error_text", "only when not ACCEPTED"
    elif status == "PARTIAL":
        if code_ != "E07":
            return "error_code", "E07 required for PARTIAL"
        if not text_:
            return "error_text", "required for PARTIAL"
    elif code_ is None or code_ == "E07":
        return "error_code", "E01 to E06 required for REJECTED"
    return None


ACK = RecordType(
    "ACK",
    (
        F("original_file_name", text(1, 255)),
        F("sha256", SHA256),
        F("status", enum("ACCEPTED", "PARTIAL", "REJECTED")),
        F("error_code", enum("E01", "E02", "E03", "E04", "E05", "E06", "E07"), "rule"),
        F("error_text", text(0, ACK_TEXT_MAX), "text"),
    ),
    (ack_code_by_status,),
    directions=frozenset({(a, b) for p in ("BOCSZ", "SZT", "SZVF") for a, b in (("SVA", p), (p, "SVA"))}),
)


TYPES: dict[str, RecordType] = {
    t.name: t
    for t in (
        CARDORDER,
        CARDREQ,
        CARDRESULT,
        CARDSTATUS,
        SWIPE,
        TRANSITREQ,
        TRANSITACK,
        DONATIONEXP,
        DONATION,
        INSROSTER,
        ACK,
    )
}

PARTIES = frozenset({"SVA", "BOCSZ", "SZT", "SZVF", "BOCINS", "SZHC"})


def register(rt: RecordType, partner: str) -> RecordType:
    """Add the record type of a partner beyond the specs' five (a deployment's own, or a
    test's): its files are read and written like any other, and ACKs go both ways between
    SVA and ``partner``. A name already taken by another type is refused."""
    if rt.name in TYPES and TYPES[rt.name] is not rt:
        raise ValueError(f"record type {rt.name} already exists")
    TYPES[rt.name] = rt
    ack = TYPES["ACK"]
    TYPES["ACK"] = replace(ack, directions=ack.directions | {("SVA", partner), (partner, "SVA")})
    return rt


def unregister(name: str, partner: str) -> None:
    """Undo :func:`register` (tests clean up with it)."""
    TYPES.pop(name, None)
    ack = TYPES["ACK"]
    if not any(partner in d for t in TYPES.values() if t is not ack for d in t.directions):
        TYPES["ACK"] = replace(ack, directions=ack.directions - {("SVA", partner), (partner, "SVA")})
