"""Shared by the sandbox partner tests: an SVA identity and partner identities made once
per test session (RSA-3072 is slow), a world per test, and SVA's side of the wire made by
hand (sealing files for a partner, opening what a partner wrote) with ``keys`` and
``schemas`` only."""

from __future__ import annotations

import atexit
import functools
import io
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from keys.envelope import open_envelope, seal
from keys.identity import Identity, cert_pem, make_identity
from sandbox.bank import BankRates
from sandbox.fund import FundRates
from sandbox.transit import TransitRates
from sandbox.world import World
from schemas.errors import RecordError
from schemas.reader import read
from schemas.samples import sample_photo
from schemas.writer import write_bytes


@dataclass(frozen=True)
class Sva:
    sign: Identity
    decrypt: Identity
    ssh_private: ed25519.Ed25519PrivateKey
    ssh_public_line: str


@functools.cache
def sva() -> Sva:
    ssh = ed25519.Ed25519PrivateKey.generate()
    line = ssh.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return Sva(make_identity("SVA sign test"), make_identity("SVA decrypt test"), ssh, line.decode())


@functools.cache
def identity_cache() -> Path:
    """Partner identities shared by every world of the test session (removed at exit)."""
    path = Path(tempfile.mkdtemp(prefix="svcard-sandbox-ids-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def make_world(
    root: Path,
    seed: int = 7,
    bank: BankRates | None = None,
    transit: TransitRates | None = None,
    fund: FundRates | None = None,
) -> World:
    s = sva()
    return World.create(
        root,
        sva_sign_cert_pem=cert_pem(s.sign[0]),
        sva_decrypt_cert_pem=cert_pem(s.decrypt[0]),
        sva_ssh_public_line=s.ssh_public_line,
        seed=seed,
        bank_rates=bank,
        transit_rates=transit,
        fund_rates=fund,
        identity_cache=identity_cache(),
    )


# Quiet rates: nothing random happens unless a test asks for it.
QUIET_BANK = BankRates(
    r01_identity=0, r02_photo=0, r04_branch=0, r05_credit=0, late_rate=0, collect_rate=1.0,
    collect_days=(1, 1), loss_rate=0, damage_rate=0, account_close_rate=0, reissue_rate=0,
    swipes_per_card_day=3, refund_rate=0, reversal_rate=0, wrong_figure_rate=0,
    duplicate_txn_rate=0, orphan_reversal_rate=0,
)  # fmt: skip


def created(d: date) -> datetime:
    return datetime.combine(d, time(1, 0, 2))


def plain_file(
    file_type: str, receiver: str, d: date, records: list[dict[str, Any]], seq: int = 1
) -> tuple[str, bytes]:
    data, result = write_bytes(
        file_type, records, sender="SVA", receiver=receiver, business_date=d, seq=seq, created_time=created(d)
    )
    assert not result.refused, result.refused
    return result.file_name, data


def raw_lines_file(
    file_type: str, receiver: str, d: date, lines: list[str], seq: int = 1
) -> tuple[str, bytes]:
    """A plain file from hand-written ``D`` lines (to send records that break a rule)."""
    head = f"H|{file_type}|1.0|SVA|{receiver}|{d:%Y%m%d}|{seq:03d}|{d:%Y%m%d}010002"
    text = "\r\n".join([head, *lines, f"T|{len(lines)}|0"]) + "\r\n"
    return f"{file_type}_SVA_{d:%Y%m%d}_{seq:03d}.txt", text.encode("gb18030")


def order_package(
    d: date, lines: list[str], seq: int = 1, photos: dict[str, bytes] | None = None
) -> tuple[str, bytes]:
    """A CARDORDER package from hand-written ``D`` lines, with a good photo for each."""
    import zipfile

    name, text = raw_lines_file("CARDORDER", "BOCSZ", d, lines, seq)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for line in lines:
            oid = line.split("|")[1]
            zf.writestr(f"photos/{oid}.jpg", (photos or {}).get(oid, _photo()))
        zf.writestr(name, text)
    return name[: -len(".txt")] + ".zip", buf.getvalue()


@functools.cache
def _photo() -> bytes:
    return sample_photo(1)


def order_line(order_id: str, volunteer_no: str, **over: str) -> str:
    f = {
        "order_id": order_id, "order_type": "NEW", "volunteer_no": volunteer_no, "name": "李志强",
        "id_type": "PASSPORT", "id_number": f"E{volunteer_no[-8:]}", "gender": "M", "birth_date": "19850612",
        "mobile": "13760012345", "address": "深圳市福田区深南大道1001号", "emergency_name": "王芳",
        "emergency_mobile": "13922223333", "carrier": "DEBIT", "branch_code": "44003",
        "photo": f"photos/{order_id}.jpg", "replaces_card_id": "",
    }  # fmt: skip
    f.update(over)
    return "D|" + "|".join(f.values())


def put(world: World, partner: str, name: str, plain: bytes, *, signer: Identity | None = None) -> str:
    """Seal ``plain`` as SVA (or ``signer``) for ``partner`` and drop it in its inbox."""
    s = sva()
    cert, key = signer or s.sign
    sealed = seal(plain, cert, key, [world.identities[partner].cert])
    return put_raw(world, partner, name + ".p7m", sealed)


def put_raw(world: World, partner: str, name: str, data: bytes) -> str:
    (world.root / partner / "inbox" / name).write_bytes(data)
    return name


@dataclass
class Got:
    name: str
    header: Any
    records: list[dict[str, Any]]


def outbox(world: World, partner: str, file_type: str) -> list[Got]:
    """Every ``file_type`` file in the partner's outbox, opened as SVA would open it."""
    s = sva()
    out = []
    folder = world.root / partner / "outbox"
    for p in sorted(folder.glob(f"{file_type}_{partner}_*.p7m")):
        plain = open_envelope(p.read_bytes(), [s.decrypt], [world.identities[partner].cert])
        reader = read(
            io.BytesIO(plain), file_name=p.name, expected_type=file_type, sender=partner, receiver="SVA"
        )
        items = list(reader)
        assert not [i for i in items if isinstance(i, RecordError)], items
        out.append(Got(p.name, reader.header, [i.data for i in items]))
    return out


def records(world: World, partner: str, file_type: str) -> list[dict[str, Any]]:
    return [r for g in outbox(world, partner, file_type) for r in g.records]


def acks(world: World, partner: str) -> dict[str, dict[str, Any]]:
    """SVA file name -> the partner's ACK record for it."""
    return {r["original_file_name"]: r for r in records(world, partner, "ACK")}
