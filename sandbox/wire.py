"""What crosses the wire, from a sandbox partner's side: SVA's files in, ours out.

``receive`` opens one file SVA put in a partner's ``inbox/`` exactly as partners/README.md
orders the checks (E01 decrypt, E02 signature pinned to SVA's signing certificate, E03
GB18030, E05 sender/receiver, E04 structure, then record errors for a PARTIAL), and gives
the records that passed with their physical line numbers. ``Outbox.write`` renders,
seals for SVA and uploads one of the partner's files (``<name>.part`` then rename), with
the next SEQ of its type and business date.

Files are read and written with the ``schemas`` codec (the specs' field tables), the
envelope with ``keys.envelope``. Nothing of the gateway is imported.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from keys.envelope import EnvelopeError, open_envelope, seal
from schemas import gb18030
from schemas.ack import AckOutcome
from schemas.errors import FileError, RecordError, clean_reason
from schemas.package import PHOTO_RE, photo_problem
from schemas.reader import Reader, read
from schemas.recordtypes import ACK_TEXT_MAX
from schemas.writer import write_bytes

SVA = "SVA"


@dataclass(frozen=True)
class Party:
    """A partner's sandbox identity: its id, certificate and private key."""

    partner: str
    cert: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclass(frozen=True)
class SvaCerts:
    """SVA's two certificates: ``sign`` (pinned for SVA's files), ``decrypt`` (sealed to).

    ``previous_sign``: signing certificates SVA used before a rotation, still accepted
    until they expire (partners/README.md: old and new are both accepted meanwhile).
    """

    sign: x509.Certificate
    decrypt: x509.Certificate
    previous_sign: tuple[x509.Certificate, ...] = ()


@dataclass
class Received:
    """One inbound file after every check. ``status``/``code``/``text`` are its ACK line."""

    name: str
    sha256: str
    status: str = "ACCEPTED"
    code: str | None = None
    text: str = ""
    file_type: str | None = None
    business_date: date | None = None
    seq: int | None = None
    records: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.status != "REJECTED"

    def ack_record(self) -> dict[str, Any]:
        return AckOutcome(self.name, self.sha256, self.status, self.code, self.text).as_record()


class Refused(Exception):
    """A whole-file failure: ``code`` is the ACK code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = clean_reason(reason)


def receive(
    name: str,
    raw: bytes,
    me: Party,
    sva: SvaCerts,
    *,
    now: datetime | None = None,
) -> Received:
    """Open, verify and read one file SVA sent to ``me``. Never raises for bad input."""
    got = Received(name=name, sha256=hashlib.sha256(raw).hexdigest())
    try:
        try:
            plain = open_envelope(raw, [(me.cert, me.key)], [sva.sign, *sva.previous_sign], now)
        except EnvelopeError as exc:
            raise Refused(exc.code, exc.reason) from None
        _read(got, plain, me.partner)
    except Refused as exc:
        got.status, got.code, got.text = "REJECTED", exc.code, exc.reason
        got.records = []
        return got
    if got.errors:
        got.status, got.code, got.text = "PARTIAL", "E07", error_text(got.errors)
    return got


def error_text(errors: Sequence[RecordError]) -> str:
    """``line:<n>:<field>:<reason>`` joined by ``;``, cut after the last entry that fits."""
    out = ""
    for e in errors:
        entry = str(e)
        candidate = f"{out};{entry}" if out else entry
        if len(candidate) > ACK_TEXT_MAX:
            break
        out = candidate
    return out


def _read(got: Received, plain: bytes, receiver: str) -> None:
    """Read the plain file with the schemas codec: E03/E05/E04 raise, record errors kept."""
    if got.name.endswith(".zip.p7m"):
        _read_package(got, plain, receiver)
        return
    _iterate(got, read(io.BytesIO(plain), file_name=got.name, sender=SVA, receiver=receiver))


def _iterate(got: Received, reader: Reader) -> None:
    try:
        for item in reader:
            if isinstance(item, RecordError):
                got.errors.append(item)
            else:
                got.records.append((item.line, item.data))
    except FileError as exc:
        raise Refused(exc.code, exc.reason) from None
    finally:
        reader.close()
    bad_lines = {e.line for e in got.errors}
    got.records = [(n, d) for n, d in got.records if n not in bad_lines]
    header = reader.header
    assert header is not None
    got.file_type, got.business_date, got.seq = header.file_type, header.business_date, header.seq


def _read_package(got: Received, plain: bytes, receiver: str) -> None:
    """A CARDORDER package. The entries are checked here rather than by
    ``schemas.package.read_package``, which counts the photo of a record with an error in
    another field as "a photo that no record names" (E04, whole file), where bank.md
    wants that record in a PARTIAL ACK and the package's other records applied."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(plain))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise Refused("E04", "package is not a readable ZIP") from None
    stem = got.name[: -len(".zip.p7m")]
    text_info, photos, problem = None, {}, None
    for info in infos:
        m = PHOTO_RE.fullmatch(info.filename)
        if info.filename == stem + ".txt" and text_info is None:
            text_info = info
        elif m and m[1] not in photos:
            photos[m[1]] = info
        else:
            problem = "entry other than the text file and photos"
    if text_info is None:
        raise Refused("E04", "package has no text file named as the package")
    text = zf.read(text_info)

    def photo_check(data: dict[str, Any]) -> str | None:
        info = photos.get(data["order_id"])
        return "missing from package" if info is None else photo_problem(zf.read(info))

    reader = Reader(
        io.BytesIO(text), owns=True, file_name=stem + ".txt", expected_type="CARDORDER", sender=SVA,
        receiver=receiver, branches=None, fast=True, photo_check=photo_check,
    )  # fmt: skip
    _iterate(got, reader)  # E03/E05/E04 of the text file win over the package's E04
    named = {ln.split("|")[1] for ln in gb18030.decode(text).splitlines() if ln.startswith("D|")}
    if problem:
        raise Refused("E04", problem)
    if set(photos) - named:
        raise Refused("E04", "photo that no record names")


# ------------------------------------------------------------------ writing


def render(
    file_type: str,
    sender: str,
    business_date: date,
    seq: int,
    created: datetime,
    records: Iterable[dict[str, Any]],
) -> bytes:
    """The plain file, written by the schemas writer.

    A record the writer refuses raises ``ValueError`` naming record and field: the sandbox
    writes only its own data, so that is a bug to see, not a record to drop.
    """
    plain, result = write_bytes(
        file_type, records, sender=sender, receiver=SVA, business_date=business_date, seq=seq,
        created_time=created,
    )  # fmt: skip
    if result.refused:
        raise ValueError(f"{file_type}: the writer refused {result.refused[0]}")
    return plain


def render_lines(
    file_type: str,
    sender: str,
    business_date: date,
    seq: int,
    created: datetime,
    lines: Sequence[str],
    control_sum: int,
) -> bytes:
    """Fast path for bulk files (SWIPE): ``lines`` are ready ``D|...`` lines."""
    head = f"H|{file_type}|1.0|{sender}|{SVA}|{business_date:%Y%m%d}|{seq:03d}|{created:%Y%m%d%H%M%S}\r\n"
    body = "\r\n".join(lines)
    tail = f"T|{len(lines)}|{control_sum}\r\n"
    return gb18030.encode(head + (body + "\r\n" if lines else "") + tail)


class Outbox:
    """A partner's ``outbox/`` folder: names, SEQs and the upload protocol."""

    def __init__(self, folder: Path, me: Party, sva: SvaCerts) -> None:
        self.folder = folder
        self.me = me
        self.sva = sva

    def next_seq(self, file_type: str, business_date: date) -> int:
        prefix = f"{file_type}_{self.me.partner}_{business_date:%Y%m%d}_"
        seqs = [
            int(p.name[len(prefix) : len(prefix) + 3])
            for p in self.folder.iterdir()
            if p.name.startswith(prefix) and not p.name.endswith(".part")
        ]
        seq = max(seqs, default=0) + 1
        if seq > 999:
            raise RuntimeError(f"no SEQ left for {prefix}")
        return seq

    def name(self, file_type: str, business_date: date, seq: int) -> str:
        return f"{file_type}_{self.me.partner}_{business_date:%Y%m%d}_{seq:03d}.txt.p7m"

    def upload(self, name: str, plain: bytes) -> str:
        """Seal ``plain`` for SVA and place it as ``name`` (``.part`` then rename); SHA-256."""
        sealed = seal(plain, self.me.cert, self.me.key, [self.sva.decrypt])
        part = self.folder / f"{name}.part"
        # No fsync: a sandbox partner, where speed matters more than surviving a power cut.
        part.write_bytes(sealed)
        os.replace(part, self.folder / name)
        return hashlib.sha256(sealed).hexdigest()

    def write(
        self,
        file_type: str,
        business_date: date,
        records: Iterable[dict[str, Any]],
        created: datetime,
        seq: int | None = None,
    ) -> tuple[str, str, bytes]:
        """Render, seal and upload one file; (name, sha256 of the sealed file, plain)."""
        seq = seq or self.next_seq(file_type, business_date)
        plain = render(file_type, self.me.partner, business_date, seq, created, records)
        name = self.name(file_type, business_date, seq)
        return name, self.upload(name, plain), plain

    def write_lines(
        self, file_type: str, business_date: date, lines: Sequence[str], control_sum: int, created: datetime
    ) -> tuple[str, str, bytes]:
        seq = self.next_seq(file_type, business_date)
        plain = render_lines(file_type, self.me.partner, business_date, seq, created, lines, control_sum)
        name = self.name(file_type, business_date, seq)
        return name, self.upload(name, plain), plain


def inbox_files(folder: Path) -> list[Path]:
    """Complete files in ``inbox/`` (``*.part`` ignored), in name order."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".part"))
