"""Synthetic, valid partner files for the sandbox partners, tests and benchmarks.

The same ``(type, n, seed, business_date)`` always gives the same records and bytes.
Identity numbers are valid RIC numbers (check character computed, birth date and gender
agreeing), names and addresses are Chinese, and every record passes its schema.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from PIL import Image

from schemas import rules
from schemas.package import write_package
from schemas.record_type import DEFAULT_BRANCHES
from schemas.recordtypes import TYPES
from schemas.writer import WriteResult, write

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉鹏宇晨欣怡子涵浩然梓轩雨思佳俊嘉"
DISTRICTS = {
    "440303": "罗湖区", "440304": "福田区", "440305": "南山区", "440306": "宝安区",
    "440307": "龙岗区", "440308": "盐田区", "440309": "龙华区", "440310": "坪山区",
    "440311": "光明区",
}  # fmt: skip
ROADS = "深南大道 滨河大道 北环大道 宝安大道 龙岗大道 梅林路 华强北路 科苑路 新安路 民治大道".split()
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

# Who sends each type (sender, receiver) in the samples.
PARTIES = {name: sorted(rt.directions)[0] for name, rt in TYPES.items()}
PARTIES["ACK"] = ("BOCSZ", "SVA")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _token(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(n))


def _person(rng: random.Random, bd: date, min_age: int = 10) -> dict[str, Any]:
    """A RIC holder aged ``min_age`` to 70 on ``bd``."""
    age_days = rng.randint(min_age * 366 + 2, 70 * 365)
    born = bd - timedelta(days=age_days)
    region = rng.choice(sorted(DISTRICTS))
    gender = rng.choice("MF")
    seq = rng.randrange(100) * 10 + rng.choice((1, 3, 5, 7, 9) if gender == "M" else (0, 2, 4, 6, 8))
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return {
        "name": _name(rng),
        "id_type": "RIC",
        "id_number": body + rules.ric_check_character(body),
        "gender": gender,
        "birth_date": born,
        "district": DISTRICTS[region],
    }


def _volunteer_no(rng: random.Random) -> str:
    return f"{rng.randint(2012, 2026)}{rng.randrange(10**6):06d}"


def _when(rng: random.Random, bd: date) -> datetime:
    return datetime.combine(bd, time()) + timedelta(seconds=rng.randrange(86400))


def _cardorder(rng: random.Random, i: int, bd: date) -> dict[str, Any]:
    p = _person(rng, bd)
    adult = rules.age_on(p["birth_date"], bd) >= rules.CREDIT_MIN_AGE
    renew = rng.random() < 0.1
    order_id = f"O{bd:%Y%m%d}{i:06d}"
    return {
        "order_id": order_id,
        "order_type": "RENEW" if renew else "NEW",
        "volunteer_no": _volunteer_no(rng),
        "name": p["name"],
        "id_type": "RIC",
        "id_number": p["id_number"],
        "gender": p["gender"],
        "birth_date": p["birth_date"],
        "mobile": _mobile(rng),
        "address": f"深圳市{p['district']}{rng.choice(ROADS)}{rng.randint(1, 3000)}号",
        "emergency_name": _name(rng),
        "emergency_mobile": _mobile(rng),
        "carrier": "CREDIT" if adult and rng.random() < 0.3 else "DEBIT",
        "branch_code": rng.choice(sorted(DEFAULT_BRANCHES)),
        "photo": f"photos/{order_id}.jpg",
        "replaces_card_id": _token(rng, 16) if renew else None,
    }


def _cardreq(rng: random.Random, i: int, bd: date) -> dict[str, Any]:
    loss = rng.random() < 0.6
    return {
        "request_id": f"Q{bd:%Y%m%d}{i:06d}",
        "request_type": "LOSS_REPORT" if loss else "CANCEL_ORDER",
        "card_id": _token(rng, 16) if loss else None,
        "order_id": None if loss else f"O{bd:%Y%m%d}{rng.randrange(10**6):06d}",
        "volunteer_no": _volunteer_no(rng),
        "request_time": _when(rng, bd - timedelta(days=1)),
        "reason": rng.choice(["", "志愿者在平台挂失", "志愿者撤回申请"]),
    }


def _cardresult(rng: random.Random, i: int, bd: date) -> dict[str, Any]:
    result = rng.choice(["ACCEPTED", "REJECTED", "PRODUCED", "NOTIFIED"])
    made = result in ("PRODUCED", "NOTIFIED")
    return {
        "order_id": f"O{bd:%Y%m%d}{i:06d}",
        "volunteer_no": _volunteer_no(rng),
        "result": result,
        "reason_code": rng.choice(["R01", "R02", "R04", "R99"]) if result == "REJECTED" else None,
        "reason_text": "照片模糊" if result == "REJECTED" else "",
        "card_id": _token(rng, 16) if made else None,
        "masked_pan": f"621785******{rng.randrange(10**4):04d}" if made else None,
        "expiry": f"{bd.year + 5}{bd.month:02d}" if made else None,
        "branch_code": rng.choice(sorted(DEFAULT_BRANCHES)),
        "event_date": bd - timedelta(days=rng.randrange(3)),
    }


_EVENTS = (
    "COLLECTED PICKUP_REMINDER CUT_CLOSED LOST_REPORTED DAMAGED_REPORTED REISSUED EXPIRING "
    "EXPIRED ACCOUNT_CLOSED"
).split()


def _cardstatus(rng: random.Random, i: int, bd: date) -> dict[str, Any]:
    event = rng.choice(_EVENTS)
    re_ = event == "REISSUED"
    return {
        "event_id": f"S{bd:%Y%m%d}{i:08d}",
        "card_id": _token(rng, 16),
        "volunteer_no": _volunteer_no(rng),
        "event": event,
        "event_time": _when(rng, bd),
        "channel": rng.choice(["BRANCH", "HOTLINE", "PLATFORM", "SYSTEM"]),
        "new_card_id": _token(rng, 16) if re_ else None,
        "new_masked_pan": f"621785******{rng.randrange(10**4):04d}" if re_ else None,
        "new_expiry": f"{bd.year + 5}{bd.month:02d}" if re_ else None,
        "detail": "短信提醒" if event == "PICKUP_REMINDER" else "",
    }


def _swipes(rng: random.Random, n: int, bd: date) -> Iterator[dict[str, Any]]:
    cards = [(_token(rng, 16), _volunteer_no(rng)) for _ in range(max(1, n // 20))]
    purchases: list[str] = []
    day = datetime.combine(bd, time())
    for i in range(n):
        card, vol = rng.choice(cards)
        roll = rng.random()
        txn_id = f"T{bd:%Y%m%d}{i:015d}"
        if roll < 0.05 and purchases:
            kind, orig, fen = "REVERSAL", purchases.pop(rng.randrange(len(purchases))), -10
        elif roll < 0.10:
            kind, orig, fen = "REFUND", None, 0
        else:
            kind, orig, fen = "PURCHASE", None, 10
            if len(purchases) < 1000:
                purchases.append(txn_id)
        yield {
            "txn_id": txn_id,
            "card_id": card,
            "volunteer_no": vol,
            "txn_time": day + timedelta(seconds=rng.randrange(86400)),
            "txn_type": kind,
            "orig_txn_id": orig,
            "channel": rng.choice(("POS", "QR", "ONLINE")),
            "mcc": rng.choice(("5812", "5411", "5999", "4111", "5311")),
            "donation_fen": fen,
        }


def _transitreq(rng: random.Random, i: int, bd: date) -> dict[str, Any]:
    return {
        "request_id": f"TR{bd:%Y%m%d}{i:06d}",
        "action": rng.choice(["ENABLE", "DISABLE"]),
        "card_id": _token(rng, 16),
        "volunteer_no": _volunteer_no(rng),
        "effective_date": bd,
    }


def _transitack(rng: random.Random, i: int, bd: date) -> dict[str, Any]:
    ok = rng.random() < 0.9
    return {
        "request_id": f"TR{bd:%Y%m%d}{i:06d}",
        "result": "OK" if ok else "FAILED",
        "reason_code": None if ok else rng.choice(["T01", "T02", "T03", "T99"]),
        "transit_account_no": f"3100{rng.randrange(10**8):08d}" if ok and rng.random() < 0.5 else None,
        "processed_date": bd,
    }


def _period(bd: date) -> str:
    prev = bd.replace(day=1) - timedelta(days=1)
    return f"{prev:%Y%m}"


def _donationexp(rng: random.Random, i: int, bd: date) -> dict[str, Any]:
    purchases = rng.randrange(60)
    reversals = rng.randrange(purchases // 5 + 1)
    return {
        "volunteer_no": "0000000000" if i == 0 else f"{2012 + i % 14}{i:06d}",
        "period": _period(bd),
        "purchase_count": purchases,
        "reversal_count": reversals,
        "expected_fen": 10 * (purchases - reversals),
    }


def _donation(rng: random.Random, i: int, bd: date) -> dict[str, Any]:
    return {
        "receipt_id": f"R{bd:%Y%m%d}{i:08d}",
        "volunteer_no": "0000000000" if i == 0 else _volunteer_no(rng),
        "period": _period(bd),
        "amount_fen": rng.randrange(-2, 60) * 10,
        "received_date": bd - timedelta(days=rng.randrange(3)),
    }


def _insroster(rng: random.Random, i: int, bd: date) -> dict[str, Any]:
    p = _person(rng, bd)
    start = bd - timedelta(days=rng.randrange(1, 3000))
    ended = rng.random() < 0.1
    return {
        "volunteer_no": _volunteer_no(rng),
        "name": p["name"],
        "id_type": "RIC",
        "id_number": p["id_number"],
        "birth_date": p["birth_date"],
        "cover_from": start,
        "cover_to": start + timedelta(days=rng.randrange((bd - start).days + 1)) if ended else None,
    }


def _ack(rng: random.Random, i: int, bd: date) -> dict[str, Any]:
    status = rng.choice(["ACCEPTED", "PARTIAL", "REJECTED"])
    return {
        "original_file_name": f"CARDORDER_SVA_{bd:%Y%m%d}_{i + 1:03d}.zip.p7m",
        "sha256": f"{rng.getrandbits(256):064x}",
        "status": status,
        "error_code": {"ACCEPTED": None, "PARTIAL": "E07", "REJECTED": "E04"}[status],
        "error_text": "line:2:mobile:not a mainland mobile number" if status == "PARTIAL" else "",
    }


_PER_RECORD: dict[str, Callable[[random.Random, int, date], dict[str, Any]]] = {
    "CARDORDER": _cardorder,
    "CARDREQ": _cardreq,
    "CARDRESULT": _cardresult,
    "CARDSTATUS": _cardstatus,
    "TRANSITREQ": _transitreq,
    "TRANSITACK": _transitack,
    "DONATIONEXP": _donationexp,
    "DONATION": _donation,
    "INSROSTER": _insroster,
    "ACK": _ack,
}


def sample_records(file_type: str, n: int, *, seed: int = 0, business_date: date) -> Iterator[dict[str, Any]]:
    """``n`` valid records of ``file_type`` (a generator: SWIPE files may be large)."""
    rng = random.Random(f"{file_type}:{seed}:{business_date:%Y%m%d}")
    if file_type == "SWIPE":
        yield from _swipes(rng, n, business_date)
        return
    make = _PER_RECORD[file_type]
    for i in range(n):
        yield make(rng, i, business_date)


def sample_photo(seed: int = 0, size: tuple[int, int] = (295, 413)) -> bytes:
    """A small JPEG ID photo of ``size`` stored pixels (deterministic bytes)."""
    from PIL import ImageDraw  # drawing (and FreeType under it) loads only to make a photo

    rng = random.Random(seed)
    img = Image.new("RGB", size, (rng.randrange(200, 256), rng.randrange(200, 256), 255))
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.ellipse((w // 4, h // 6, 3 * w // 4, h // 2), fill=(rng.randrange(150, 230), 160, 130))
    draw.rectangle((w // 6, h // 2 + 10, 5 * w // 6, h), fill=(30, 30, rng.randrange(40, 120)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def write_sample(
    out: IO[bytes], file_type: str, n: int, *, seed: int = 0, business_date: date, seq: int = 1
) -> WriteResult:
    """Write a valid sample file (a ZIP package for CARDORDER) to ``out``."""
    sender, receiver = PARTIES[file_type]
    created = datetime.combine(business_date, time(1, 0, 2))
    records = sample_records(file_type, n, seed=seed, business_date=business_date)
    if file_type == "CARDORDER":
        return write_package(
            out, records, lambda order_id: sample_photo(hash_seed(seed, order_id)),
            sender=sender, receiver=receiver, business_date=business_date, seq=seq,
            created_time=created,
        )  # fmt: skip
    return write(
        out, file_type, records, sender=sender, receiver=receiver,
        business_date=business_date, seq=seq, created_time=created,
    )  # fmt: skip


def hash_seed(seed: int, text: str) -> int:
    """A stable per-record seed (``hash()`` of a str changes between runs)."""
    return seed * 1_000_003 + sum((i + 1) * ord(c) for i, c in enumerate(text))


def sample_file(
    file_type: str, n: int, *, seed: int = 0, business_date: date, seq: int = 1
) -> tuple[str, bytes]:
    """``(file name, bytes)`` of a valid sample file; a ``.zip`` package for CARDORDER."""
    out = io.BytesIO()
    result = write_sample(out, file_type, n, seed=seed, business_date=business_date, seq=seq)
    if result.refused:  # a generator bug, never the caller's: fail loudly
        raise AssertionError(f"sample records refused: {result.refused[:3]}")
    return result.file_name, out.getvalue()
