"""Reading a plain (decrypted, verified) partner file, streaming.

Contract for callers (the SFTP exchanges, the sandbox partners, the swipe ingestion)::

    reader = read(path_or_binary_stream, file_name=..., expected_type="SWIPE",
                  sender="BOCSZ", receiver="SVA")
    try:
        for item in reader:              # Record or RecordError, in line order
            ...                          # apply a Record / note a RecordError
    except FileError as exc:             # exc.code is E03, E04 or E05
        ...                              # roll back everything applied from this file
    summary = reader.summary             # after a complete iteration

* Records are yielded as lines are decoded, a decoded block (32 KiB of text) at a time;
  memory does not grow with the file (a block and its records at most).
  ``reader.records(errors)`` yields the records only and appends the record errors to
  the caller's list (the exchange engine's way); ``reader.texts(errors)`` the same, each
  record as ``(line, field texts)`` (no Python values: the SWIPE ingestion's direct way).
* **A whole-file failure may be raised only at the end**, after records were already
  yielded: the trailer (count, control sum) is the last line. Apply a file inside one
  database transaction and roll it back on :class:`FileError`; commit nothing from it,
  and send no answer or ACK for it, before the iteration has finished without one.
* A line that fails the fast path is re-checked by the full schema (about 40,000 lines
  a second, against about 400,000 for valid lines).
* The order of codes of README.md (E03 before E05 before E04) holds although the file is
  read once: the first E04/E05 found stops the records, the rest of the file is still
  decoded, and an invalid byte anywhere (E03) wins over it. E05 can only come from the
  header, whose sender and receiver are checked before its other fields.
* ``Reader.header`` is read eagerly by :func:`read` but is only trustworthy once the
  iteration has finished without :class:`FileError`.
* A record with several broken fields yields one :class:`RecordError` per field, in
  field order; ``Summary.bad_records`` counts such records once.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import IO, Any, NamedTuple

from schemas import gb18030, rules
from schemas.errors import FileError, RecordError
from schemas.fields import TIME, ValueProblem
from schemas.recordtypes import TYPES, Context, RecordType
from schemas.validate import Validator

CHUNK = 1 << 15  # 32 KiB: a block of records stays in the CPU caches while it is handled
MAX_LINE = 16_384  # characters; the longest valid line is about 1,300 (ACK)
KEEP_ERRORS = 10_000
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_SEQ_RE = re.compile(r"(?!000)[0-9]{3}")
_TOO_LONG = "\x00line too long"  # sentinel line: a real one cannot start with NUL and pass
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
NAME_RE = re.compile(
    r"(?P<type>[A-Z]+)_(?P<sender>[A-Z0-9]+)_(?P<date>[0-9]{8})_(?P<seq>[0-9]{3})"
    r"\.(?P<ext>txt|zip)(?P<p7m>\.p7m)?"
)


class Record(NamedTuple):
    """A record that passed every rule of its type: ``data`` maps the spec's field
    names to Python values (see ``schemas.fields`` for the types)."""

    line: int
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Header:
    file_type: str
    version: str
    sender: str
    receiver: str
    business_date: date
    seq: int
    created_time: datetime


@dataclass
class Summary:
    """What a complete iteration found. ``errors`` keeps the first 10,000 record
    errors (the iteration yields all of them)."""

    file_type: str
    count: int = 0
    control_sum: int = 0
    good_records: int = 0
    bad_records: int = 0
    error_count: int = 0
    errors: list[RecordError] = field(default_factory=list)


def read(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    file_name: str | None = None,
    expected_type: str | None = None,
    sender: str | None = None,
    receiver: str | None = None,
    branches: frozenset[str] | None = None,
    fast: bool = True,
) -> Reader:
    """Open a plain partner file for streaming validation.

    ``file_name`` is the name the file came under (``X.txt`` or ``X.txt.p7m``; for a
    CARDORDER text, the ``.txt`` inside the package); it defaults to the path's base
    name, and for a stream without one the name check is skipped. ``sender`` and
    ``receiver`` are the parties the channel says (a mismatch is E05); without them the
    pair must still be one the type's spec allows. ``branches`` overrides the packaged
    branch list. ``fast=False`` validates every line with the full schema.
    """
    if isinstance(source, str | os.PathLike):
        stream: IO[bytes] = open(source, "rb")  # noqa: SIM115 - closed by the Reader
        owns = True
        if file_name is None:
            file_name = os.path.basename(os.fspath(source))
    else:
        stream, owns = source, False
    return Reader(
        stream,
        owns=owns,
        file_name=file_name,
        expected_type=expected_type,
        sender=sender,
        receiver=receiver,
        branches=branches,
        fast=fast,
    )


class Reader:
    """Iterate for ``Record | RecordError``; see the module docstring for the contract."""

    def __init__(
        self,
        stream: IO[bytes],
        *,
        owns: bool,
        file_name: str | None,
        expected_type: str | None,
        sender: str | None,
        receiver: str | None,
        branches: frozenset[str] | None,
        fast: bool,
        photo_check: Any = None,
    ) -> None:
        self._stream = stream
        self._owns = owns
        self.file_name = file_name
        self._expected_type = expected_type
        self._sender = sender
        self._receiver = receiver
        self._branches = branches
        self._fast = fast
        # CARDORDER packages check each record's photo (schemas.package): called for
        # every D line of the right shape with its typed record, or, for a record with
        # errors, with ``{"order_id": <its text>}``; returns a reason or None.
        self.photo_check = photo_check
        self._blocks = self._decode_blocks()
        self._rest: list[tuple[int, list[str]]] = []
        self._deferred: FileError | None = None
        self._started = False
        self.summary: Summary | None = None
        self.header: Header | None = None
        self.record_type: RecordType | None = None
        self._first_line()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns:
            self._stream.close()

    # -- decoding --------------------------------------------------------------------

    def _decode_blocks(self) -> Iterator[tuple[int, list[str]]]:
        """Physical lines without their line break, in blocks: ``(number of the
        block's first line, lines)``; the header is line 1. Raises E03.

        Blocks rather than single lines keep the per-line loop in the caller's frame
        (a generator resumption per line would cost a tenth of the parse)."""
        decoder = gb18030.IncrementalDecoder()
        pending = ""
        lineno = 1
        first = True
        too_long = False
        while True:
            chunk = self._stream.read(CHUNK)
            if first:
                while chunk and len(chunk) < 4 and (more := self._stream.read(CHUNK)):
                    chunk += more  # a short first read must not hide a byte order mark
                if chunk.startswith(_BOMS):
                    raise FileError("E03", "byte order mark", line=1)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # LF (0x0A) is never part of a GB18030 sequence: count lines in bytes.
                at = lineno + bytes(exc.object[: exc.start]).count(b"\n")
                raise FileError("E03", "bytes not valid GB18030", line=at) from None
            if first and text:
                first = False
                if text.startswith("\ufeff"):
                    raise FileError("E03", "byte order mark", line=1)
            if not chunk:
                break
            parts = text.split("\n")
            if len(parts) == 1:
                pending += text
                if len(pending) > MAX_LINE:
                    too_long, pending = True, ""
                continue
            parts[0] = _TOO_LONG if too_long else pending + parts[0]
            too_long = False
            pending = parts.pop()
            yield lineno, parts
            lineno += len(parts)
        if pending or too_long:
            yield lineno, [_TOO_LONG if too_long else pending]

    # -- header ----------------------------------------------------------------------

    def _defer(self, code: str, reason: str, line: int | None) -> None:
        if self._deferred is None:
            self._deferred = FileError(code, reason, line=line)

    def _first_line(self) -> None:
        try:
            _, block = next(self._blocks)
        except StopIteration:
            return self._defer("E04", "empty file", 1)
        except FileError as exc:
            self._deferred = exc
            return None
        self._rest = [(2, block[1:])]
        self._parse_header(block[0].removesuffix("\r"))
        return None

    def _parse_header(self, line: str) -> None:
        p = line.split("|")
        if p[0] != "H":
            return self._defer("E04", "first line not a header", 1)
        if len(p) != 8:
            return self._defer("E04", "header field count", 1)
        _, ftype, version, snd, rcv, bdate, seq, created = p
        rt = TYPES.get(ftype)
        # E05 first: the channel's parties, then the pairs the type's spec allows.
        if (self._sender and snd != self._sender) or (self._receiver and rcv != self._receiver):
            return self._defer("E05", "sender or receiver not the channel's", 1)
        if rt is not None and (snd, rcv) not in rt.directions:
            return self._defer("E05", "sender or receiver wrong for file type", 1)
        if rt is None:
            return self._defer("E04", "unknown file type", 1)
        if self._expected_type and ftype != self._expected_type:
            return self._defer("E04", "file type not the one expected", 1)
        if version != "1.0":
            return self._defer("E04", "version not 1.0", 1)
        bd = rules.parse_yyyymmdd(bdate)
        if bd is None:
            return self._defer("E04", "business date not a real date", 1)
        if not _SEQ_RE.fullmatch(seq):
            return self._defer("E04", "SEQ not 001 to 999", 1)
        try:
            if not re.fullmatch(TIME.pattern, created):
                raise ValueProblem("bad")
            created_time = TIME.parse(created)
        except ValueProblem:
            return self._defer("E04", "created time not YYYYMMDDHHMMSS", 1)
        if self.file_name is not None:
            problem = name_problem(self.file_name, ftype, snd, bdate, seq, rt.ext)
            if problem:
                return self._defer("E04", problem, 1)
        self.header = Header(ftype, version, snd, rcv, bd, int(seq), created_time)
        self.record_type = rt
        return None

    # -- records ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[Record | RecordError]:
        return itertools.chain.from_iterable(self._batches(None))

    def records(self, errors: list[RecordError]) -> Iterator[Record]:
        """The records only, in line order; each record error is appended to ``errors``
        (in line order) before any record of a later line is yielded. Otherwise as
        iterating the reader."""
        return itertools.chain.from_iterable(self._batches(errors))

    def texts(self, errors: list[RecordError]) -> Iterator[tuple[int, tuple[str, ...]]]:
        """Like :meth:`records`, but each valid record as ``(line, field texts)``: the
        texts as they stand in the file, in field order, checked by the same rules. For a
        type whose rules a pattern can hold (``schemas.validate.lane_pattern``) a block
        of valid lines is checked and split in C, without a Python value per field."""
        return itertools.chain.from_iterable(self._batches(errors, texts=True))

    def _batches(self, errors: list[RecordError] | None, texts: bool = False) -> Iterator[list]:
        # One list per decoded block, flattened by the C-level chain above: a generator
        # resumption per line (and per layer) cost about a quarter of the parse.
        if self._started:
            raise RuntimeError("a Reader is iterated once")
        self._started = True
        try:
            if self._deferred is None:
                yield from self._body(errors, texts)
            if self._deferred is not None:
                for _ in self._blocks:  # decode the rest: an E03 there wins
                    pass
                raise self._deferred
        finally:
            self.close()

    def _body(self, errors: list[RecordError] | None, texts: bool = False) -> Iterator[list]:
        assert self.header is not None and self.record_type is not None
        rt = self.record_type
        ctx = Context.of(self.header.business_date, self._branches)
        validator = Validator(rt, ctx, fast=self._fast)
        fast = validator.fast
        lane = None
        if texts and validator.lane is not None and validator.lane.groups > 1 and self.photo_check is None:
            # The lane anchored at each line of a block: findall's tuples are the records
            # when there is one per line (a match cannot cross a line, nor two share one).
            lane = re.compile(f"^(?:{validator.lane.pattern})$", re.MULTILINE).findall
        money_name = rt.money_field
        money = rt.field_names.index(money_name) if money_name else None
        nfields = len(rt.fields)
        summary = self._summary = Summary(rt.name)
        photo_check = self.photo_check
        name = rt.name
        make_record = Record._make
        control = good = 0
        trailer: tuple[int, str] | None = None
        for start, block in itertools.chain(self._rest, self._blocks):
            if lane is not None and trailer is None:
                rows = lane("\n".join(block))
                if len(rows) == len(block):  # every line of the block is a valid record
                    if money is not None:
                        control += sum(map(int, map(itemgetter(money), rows)))
                    good += len(rows)
                    yield list(zip(range(start, start + len(rows)), rows, strict=True))
                    continue
            out: list = []
            good_out = out.append
            bad_out = out.extend if errors is None else errors.extend
            for lineno, line in enumerate(block, start):
                if fast is not None:
                    # The hot loop: a valid line costs one match and one dict.
                    data = fast(line)
                    if data is not None:
                        if money_name is not None:
                            control += data[money_name]
                        if photo_check is not None:
                            problem = photo_check(data)
                            if problem:
                                bad_out(self._bad(lineno, [("photo", problem)]))
                                continue
                        good += 1
                        if texts:
                            good_out((lineno, tuple(line.removesuffix("\r").split("|")[1:])))
                        else:
                            good_out(make_record((lineno, name, data)))  # C-level tuple.__new__
                        continue
                if trailer is not None:
                    yield out
                    return self._defer("E04", "line after trailer", lineno)
                line = line.removesuffix("\r")
                if len(line) > MAX_LINE:
                    line = _TOO_LONG
                parts = line.split("|")
                tag = parts[0]
                if tag == "T":
                    trailer = (lineno, line)
                    fast = None  # every later line is an error: take the slow path
                    continue
                if tag != "D":
                    what = "empty line" if line == "" else "line not H, D or T"
                    if line == _TOO_LONG:
                        what = "line too long"
                    yield out
                    return self._defer("E04", what, lineno)
                if len(parts) - 1 != nfields:
                    yield out
                    return self._defer("E04", "D line field count", lineno)
                raw = parts[1:]
                if money is not None and _INT_RE.fullmatch(raw[money]):
                    control += int(raw[money])
                data, problems = validator.check_fields(raw)
                if photo_check is not None:
                    problems = self._with_photo(photo_check, data, raw, problems)
                if problems:
                    bad_out(self._bad(lineno, problems))
                else:
                    assert data is not None
                    good += 1
                    good_out((lineno, tuple(raw)) if texts else Record(lineno, name, data))
            yield out
        if trailer is None:
            return self._defer("E04", "no trailer", None)
        count = good + summary.bad_records
        self._check_trailer(trailer, count, control)
        if self._deferred is None:
            summary.count, summary.control_sum, summary.good_records = count, control, good
            self.summary = summary
        return None

    def _with_photo(
        self,
        photo_check: Any,
        data: dict[str, Any] | None,
        raw: list[str],
        problems: list[tuple[str, str]],
    ) -> list[tuple[str, str]]:
        """``problems`` plus the package's photo check, in field order. A record with
        other errors is checked too (its photo is still one a record names)."""
        if any(f == "photo" for f, _ in problems):
            return problems
        rt = self.record_type
        assert rt is not None
        problem = photo_check(data if data is not None else {"order_id": raw[0]})
        if not problem:
            return problems
        order = rt.field_names
        after = [p for p in problems if p[0] in order and order.index(p[0]) > order.index("photo")]
        before = [p for p in problems if p not in after]
        return [*before, ("photo", problem), *after]

    def _bad(self, lineno: int, problems: list[tuple[str, str]]) -> list[RecordError]:
        summary = self._summary
        summary.bad_records += 1
        out = []
        for fname, reason in problems:
            err = RecordError(lineno, fname, reason)
            summary.error_count += 1
            if len(summary.errors) < KEEP_ERRORS:
                summary.errors.append(err)
            out.append(err)
        return out

    def _check_trailer(self, trailer: tuple[int, str], count: int, control: int) -> None:
        lineno, line = trailer
        p = line.split("|")
        if len(p) != 3 or not _INT_RE.fullmatch(p[1]) or not _INT_RE.fullmatch(p[2]):
            return self._defer("E04", "trailer not T then count then control sum", lineno)
        if int(p[1]) != count:
            return self._defer("E04", "record count differs from D lines", lineno)
        if int(p[2]) != control:
            return self._defer("E04", "control sum differs from records", lineno)
        return None


def name_problem(file_name: str, ftype: str, sender: str, bdate: str, seq: str, ext: str) -> str | None:
    """Why ``file_name`` disagrees with the header, or None. A CARDORDER's text file
    is named ``.txt`` inside its package; the package itself ``.zip``."""
    m = NAME_RE.fullmatch(file_name)
    if m is None:
        return "file name not TYPE_SENDER_DATE_SEQ.ext"
    if (m["type"], m["sender"], m["date"], m["seq"]) != (ftype, sender, bdate, seq):
        return "file name disagrees with header"
    if m["ext"] not in ("txt", ext):
        return "file name extension wrong for type"
    return None
