"""The CARDORDER package (bank.md): a ZIP holding the text file and one photo per record.

Rules: entry names are ASCII; the text file is the package's name with ``.txt``; each
photo is ``photos/<order_id>.jpg``, a JPEG of at least 295×413 stored pixels. A record
whose photo is missing or unusable is a record error on ``photo``; any other entry
(including a photo no record names) makes the file invalid (E04).

Safety: nothing is extracted to disk and only the exact names above are accepted (so no
path can traverse); an encrypted entry, a compression other than stored/deflate, a
duplicate name, or an entry declared larger than its limit is E04; and ``zipfile`` never
inflates an entry beyond its declared size (a zip bomb stops there, and its CRC fails).

The E03 > E05 > E04 order holds: a package-level E04 is raised only after the text file
was decoded to its end and its header checked, so an E03 or E05 inside wins.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import IO, Any

from PIL import Image

from schemas import gb18030
from schemas.errors import FileError, RecordError, WriteRefused
from schemas.reader import NAME_RE, Reader, Record, Summary
from schemas.recordtypes import CARDORDER, Context
from schemas.writer import LineWriter, WriteResult, file_name, header_line

PHOTO_RE = re.compile(r"photos/([A-Z0-9]{1,20})\.jpg")
MIN_PHOTO = (295, 413)
MAX_PHOTO_BYTES = 5 << 20
MAX_TEXT_BYTES = 512 << 20
MAX_ENTRIES = 200_001
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def photo_problem(data: bytes) -> str | None:
    """Why ``data`` is not a usable ID photo for the package, or None."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (w, h) = img.format, img.size
    except Exception:  # noqa: BLE001 - Pillow raises many types for junk; all mean "not a JPEG"
        return "not a JPEG"
    if fmt != "JPEG":
        return "not a JPEG"
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "JPEG truncated"
    if w < MIN_PHOTO[0] or h < MIN_PHOTO[1]:
        return "smaller than 295 by 413 pixels"
    return None


def read_package(
    source: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    file_name: str | None = None,
    sender: str | None = None,
    receiver: str | None = None,
    branches: frozenset[str] | None = None,
    fast: bool = True,
) -> PackageReader:
    """Open a CARDORDER package (``….zip``) for streaming validation, as
    :func:`schemas.reader.read` does for a text file (same iteration contract).
    Use it as a context manager: the ZIP stays open for ``photo(order_id)`` until
    ``close()``."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    if file_name is None and isinstance(source, str | os.PathLike):
        file_name = os.path.basename(os.fspath(source))
    return PackageReader(source, file_name, sender, receiver, branches, fast)


class PackageReader:
    def __init__(
        self,
        source: Any,
        file_name: str | None,
        sender: str | None,
        receiver: str | None,
        branches: frozenset[str] | None,
        fast: bool,
    ) -> None:
        self.file_name = file_name
        self._problem: str | None = None
        self._photos: dict[str, zipfile.ZipInfo] = {}
        self._used: set[str] = set()
        self.reader: Reader | None = None
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            self._zip = None
            self._problem = "not a readable ZIP"
            return
        text_info = self._entries()
        if text_info is None:
            return
        self.reader = Reader(
            _Limited(self._zip.open(text_info), MAX_TEXT_BYTES), owns=True,
            file_name=text_info.filename, expected_type="CARDORDER", sender=sender,
            receiver=receiver, branches=branches, fast=fast,
            photo_check=None if self._problem else self._check_photo,
        )  # fmt: skip

    @property
    def header(self) -> Any:
        return self.reader.header if self.reader else None

    @property
    def summary(self) -> Summary | None:
        return self.reader.summary if self.reader else None

    def _entries(self) -> zipfile.ZipInfo | None:
        assert self._zip is not None
        infos = self._zip.infolist()
        stem = None
        if self.file_name:
            m = NAME_RE.fullmatch(self.file_name)
            if m is None or m["ext"] != "zip" or m["type"] != "CARDORDER":
                self._problem = "package name not CARDORDER_SENDER_DATE_SEQ.zip"
            else:
                stem = self.file_name.split(".", 1)[0]
        if len(infos) > MAX_ENTRIES:
            self._problem = "too many entries"
            return None
        text_info = None
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if not name.isascii() or name in seen:
                self._problem = "entry name not ASCII or repeated"
            seen.add(name)
            if info.flag_bits & 0x1 or info.compress_type not in _METHODS:
                self._problem = "entry encrypted or compressed with an unknown method"
            m = PHOTO_RE.fullmatch(name)
            if m:
                if info.file_size > MAX_PHOTO_BYTES:
                    self._problem = "photo entry larger than 5 MiB"
                self._photos[m[1]] = info
            elif name.endswith(".txt") and "/" not in name and text_info is None:
                if stem is not None and name != stem + ".txt":
                    self._problem = "text file name differs from package name"
                if info.file_size > MAX_TEXT_BYTES:
                    self._problem = "text entry too large"
                text_info = info
            else:
                self._problem = "entry other than the text file and photos"
        if text_info is None:
            self._problem = self._problem or "no text file"
            return None
        return text_info

    def _check_photo(self, data: dict[str, Any]) -> str | None:
        info = self._photos.get(data["order_id"])
        if info is None:
            return "missing from package"
        self._used.add(data["order_id"])
        try:
            raw = self._read(info)
        except (zipfile.BadZipFile, OSError, EOFError):
            return "entry unreadable"
        return photo_problem(raw)

    def _read(self, info: zipfile.ZipInfo) -> bytes:
        assert self._zip is not None
        with self._zip.open(info) as f:
            return f.read(MAX_PHOTO_BYTES + 1)

    def photo(self, order_id: str) -> bytes | None:
        """The photo bytes of ``order_id``, or None when the package has none."""
        info = self._photos.get(order_id)
        return self._read(info) if info is not None else None

    def __iter__(self) -> Iterator[Record | RecordError]:
        if self.reader is None:
            raise FileError("E04", self._problem or "no text file")
        if self._problem:
            for _ in self.reader:  # E03 / E05 inside win over the package's E04
                pass
            raise FileError("E04", self._problem)
        yield from self.reader
        if set(self._photos) - self._used:
            raise FileError("E04", "photo that no record names")

    def __enter__(self) -> PackageReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the ZIP (``photo()`` works until then; ``with`` closes it)."""
        if self._zip is not None:
            self._zip.close()


class _Limited(io.RawIOBase):
    """A read-only view of a stream that fails (E04) past ``limit`` bytes."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self._inner, self._left = inner, limit

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._inner.read(n)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise FileError("E04", "package entry corrupt") from None
        self._left -= len(data)
        if self._left < 0:
            raise FileError("E04", "text entry too large")
        return data

    def close(self) -> None:
        self._inner.close()
        super().close()


def write_package(
    out: IO[bytes],
    records: Iterable[Mapping[str, Any]],
    photos: Mapping[str, bytes] | Callable[[str], bytes | None],
    *,
    sender: str,
    receiver: str,
    business_date: date,
    seq: int,
    created_time: datetime,
    branches: frozenset[str] | None = None,
) -> WriteResult:
    """Write a CARDORDER package: photos as stored entries, then the text file.

    ``photos`` maps an ``order_id`` to its JPEG bytes (or is a function doing so). A
    record whose photo is missing or unusable is refused on ``photo`` like any other
    broken value. Entry times are ``created_time``, so the bytes are reproducible.
    """
    get = photos.get if isinstance(photos, Mapping) else photos
    lw = LineWriter(CARDORDER, Context.of(business_date, branches))
    result = WriteResult(file_name("CARDORDER", sender, business_date, seq, "zip"))
    stamp = (created_time.year, created_time.month, created_time.day, created_time.hour,
             created_time.minute, created_time.second)  # fmt: skip
    lines = [header_line(CARDORDER, sender, receiver, business_date, seq, created_time)]
    with zipfile.ZipFile(out, "w") as zf:
        for index, record in enumerate(records):
            outcome = lw.line_for(index, record)
            if isinstance(outcome, WriteRefused):
                result.refused.append(outcome)
                continue
            order_id = record["order_id"]
            photo = get(order_id)
            problem = "missing" if photo is None else photo_problem(photo)
            if problem:
                result.refused.append(WriteRefused(index, order_id, "photo", problem))
                continue
            assert photo is not None
            zf.writestr(zipfile.ZipInfo(f"photos/{order_id}.jpg", stamp), photo)
            lines.append(outcome[0])
            result.count += 1
        lines.append(f"T|{result.count}|0")
        text = gb18030.encode("\r\n".join(lines) + "\r\n")
        info = zipfile.ZipInfo(result.file_name[:-4] + ".txt", stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, text)
    return result
