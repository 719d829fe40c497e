"""A generated, reproducible sample of volunteers (CSV + JPEG photos) for the demo and the
tests. Every value is fictitious; RIC numbers are valid (check character via
``schemas.rules``) and agree with birth date and gender."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from gateway.services.volunteer_import import COLUMNS
from schemas.rules import ric_check_character

# Shenzhen districts, including the newer ones a region table would reject.
REGIONS = ("440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310", "440311")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅志鹏宇晨曦嘉怡子涵浩然思远欣悦"
STREETS = ("深南大道", "福华路", "红荔路", "滨海大道", "宝安大道", "龙岗大道", "人民南路", "科技园路")
BRANCHES = tuple(f"440{n:02d}" for n in range(1, 11))


def ric(region: str, birth: date, seq: int, gender: str) -> str:
    """A valid 18-character RIC number: region, birth date, sequence (odd = M), check."""
    seq = seq % 1000
    if (seq % 2 == 1) != (gender == "M"):
        seq = (seq + 1) % 1000
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + ric_check_character(first17)


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def jpeg(width: int = 300, height: int = 420, seed: int = 0, fmt: str = "JPEG") -> bytes:
    """A small ID-style photo (plain background, a head and shoulders)."""
    rng = random.Random(seed)
    img = Image.new("RGB", (width, height), (rng.randrange(180, 256), rng.randrange(180, 256), 255))
    d = ImageDraw.Draw(img)
    tone = (rng.randrange(200, 240), rng.randrange(160, 200), rng.randrange(130, 170))
    d.ellipse((width * 0.3, height * 0.15, width * 0.7, height * 0.55), fill=tone)
    d.rectangle((width * 0.2, height * 0.6, width * 0.8, height), fill=(rng.randrange(0, 90),) * 3)
    out = io.BytesIO()
    img.save(out, fmt, quality=70)
    return out.getvalue()


def generate(
    directory: Path,
    count: int = 300,
    *,
    seed: int = 20261128,
    today: date | None = None,
    applicants: float = 0.1,
    bad_rows: int = 0,
) -> Path:
    """Write ``volunteers.csv`` and ``photos/*.jpg`` into ``directory``; return the CSV path.

    About ``applicants`` of the rows are applicants (no number). ``bad_rows`` rows get one
    deliberate error each (for the demo's error report)."""
    rng = random.Random(seed)
    today = today or date(2026, 11, 28)
    photos = directory / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(count):
        gender = rng.choice("MF")
        age_days = rng.randrange(16 * 365, 65 * 365)
        birth = today - timedelta(days=age_days)
        official = rng.random() >= applicants
        photo_name = f"photos/{i:05d}.jpg"
        photo_path = directory / photo_name
        if not photo_path.exists():
            photo_path.write_bytes(jpeg(seed=seed + i))
        age = (today - birth).days // 365
        row = {
            "volunteer_no": f"{2000000000 + i * 7 + 1:010d}" if official else "",
            "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
            "id_type": "RIC",
            "id_number": ric(rng.choice(REGIONS), birth, rng.randrange(1000), gender),
            "gender": gender,
            "birth_date": f"{birth:%Y%m%d}",
            "mobile": mobile(rng),
            "address": f"深圳市{rng.choice(STREETS)}{rng.randrange(1, 3000)}号",
            "emergency_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
            "emergency_mobile": mobile(rng),
            "carrier": "CREDIT" if age >= 18 and rng.random() < 0.3 else "DEBIT",
            "branch_code": rng.choice(BRANCHES),
            "photo": photo_name,
            "opt_transit": rng.choice("YN"),
            "opt_health": rng.choice("YN"),
            "training_hours": str(rng.choice((2, 3, 4, 6, 8))),
            "service_hours": str(rng.choice((10, 12, 20, 35.5, 80))),
            "official_since": f"{today - timedelta(days=rng.randrange(30, 2000)):%Y%m%d}" if official else "",
        }
        rows.append(row)
    for j in range(min(bad_rows, count)):
        row = rows[(j * 37 + 5) % count]
        kind = j % 3
        if kind == 0:
            row["mobile"] = row["mobile"][:-1]  # 10 digits
        elif kind == 1:
            row["id_number"] = row["id_number"][:17] + ("0" if row["id_number"][17] != "0" else "1")
        else:
            row["branch_code"] = "99999"
    path = directory / "volunteers.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return path
