"""The block lane (``schemas.validate.lane_pattern``) and ``Reader.texts``.

The lane must be *sound*: a line it fullmatches is a valid record for both the fast path
and the schema, and its groups are the line's field texts. It should also take every
ordinary valid line (else it buys no speed). ``Reader.texts`` must give exactly what
``Reader.records`` gives (records as field texts, the same record errors in the same
order, the same summary, the same ``FileError``) whatever blocks the lane takes.
"""

from __future__ import annotations

import io
import itertools
import random
from datetime import date, timedelta
from functools import cache

import pytest

from schemas import TYPES, Context, FileError, read
from schemas import reader as reader_module
from schemas.samples import sample_file
from schemas.validate import Validator, lane_pattern, schema_check

SWIPE = TYPES["SWIPE"]
BD = date(2026, 11, 9)
BLOCK = reader_module.CHUNK  # the reader decodes 32 KiB of bytes at a time
# Business dates for the mutation test: an ordinary day, a leap day, the last and the
# first day of a year (the lane writes the date's own digits into the pattern).
DATES = [BD, date(2028, 2, 29), date(2026, 12, 31), date(2027, 1, 1)]


def ymd(d: date) -> str:
    # Not strftime: %Y is not zero-padded below year 1000 on this platform.
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


@cache
def sample(n: int, bd: date = BD) -> tuple[str, str, list[str]]:
    """``(file name, header, D lines without line break)`` of a valid sample file."""
    name, data = sample_file("SWIPE", n, business_date=bd)
    lines = data.decode("gb18030").split("\r\n")
    assert lines[-1] == "" and lines[-2].startswith("T|")
    return name, lines[0], lines[1:-2]


# ---- 1. soundness, by mutation ------------------------------------------------------

# Characters put into lines: the pattern's own alphabet and its near misses (lower case,
# separators, CR and other controls, Unicode digits and letters that \d or \w would take).
CHARS = (
    "0123456789" "ABCDEFGHIJKLMNOPQRSTUVWXYZ" "abcdefghijklmnopqrstuvwxyz"
    "||||----\r\r\r\x00\t \x7f\x85\u00a0\u2028\ufeff"
    "张０９٣Ａé"
)  # fmt: skip
TXN_TYPES = ["PURCHASE", "REFUND", "REVERSAL", "purchase", "Reversal", "REVERSALS", "REFUN", ""]
FENS = ["-0", "0", "00", "007", "10", "-10", "+10", " 10", "1e1", "999999999999999999",
        "-999999999999999999", "1000000000000000000", "-1000000000000000000", "", "-", "１０"]  # fmt: skip
ORIGS = ["", "T1", "T20261109000000000000001", "X" * 24, "X" * 25, "t1", "T-1", "张"]


def times(bd: date) -> list[str]:
    day, nxt, prev = ymd(bd), ymd(bd + timedelta(days=1)), ymd(bd - timedelta(days=1))
    return [
        f"{day}240000", f"{day}235960", f"{nxt}000000", f"{prev}235959", f"{day}000000",
        f"{day}235959", f"{day}120000", f"{day}126000", f"{day}120060", f"{day}12000",
        f"{day}1200000", f"{day}-12000", f"{day[:6]}00120000", f"{day[:6]}32120000", "",
    ]  # fmt: skip


def mutate(line: str, rng: random.Random, bd: date) -> str:
    """One random change: of a character, of a field's value, of the field count or of
    the line ending."""
    op = rng.randrange(12)
    if op <= 2:  # replace, insert or delete a character anywhere
        at = rng.randrange(len(line) + (op == 1))
        if op == 0 and line:
            return line[:at] + rng.choice(CHARS) + line[at + 1 :]
        if op == 1:
            return line[:at] + rng.choice(CHARS) + line[at:]
        return line[:at] + line[at + 1 :]
    body, cr = (line[:-1], "\r") if line.endswith("\r") else (line, "")
    parts = body.split("|")
    if op == 3 and len(parts) > 6:  # txn_type, with or without orig_txn_id
        parts[5] = rng.choice(TXN_TYPES)
        if rng.random() < 0.7:
            parts[6] = rng.choice(ORIGS)
    elif op == 4 and len(parts) > 4:
        parts[4] = rng.choice(times(bd))
    elif op == 5 and len(parts) > 9:
        parts[9] = rng.choice(FENS)
    elif op == 6 and len(parts) > 1:  # an empty field
        parts[rng.randrange(1, len(parts))] = ""
    elif op == 7:  # an extra field
        parts.insert(rng.randrange(1, len(parts) + 1), rng.choice(["", "X", "10", "POS"]))
    elif op == 8 and len(parts) > 1:  # a missing field
        del parts[rng.randrange(1, len(parts))]
    elif op == 9:  # CR in the middle, trailing CR, two CRs
        at = rng.randrange(len(body) + 1)
        return rng.choice([body[:at] + "\r" + body[at:] + cr, body + "\r", body + "\r\r", body])
    elif op == 10 and len(parts) > 1:  # a field in lower case
        i = rng.randrange(len(parts))
        parts[i] = parts[i].lower()
    else:  # a non-ASCII character in a field
        i = rng.randrange(len(parts))
        at = rng.randrange(len(parts[i]) + 1)
        parts[i] = parts[i][:at] + rng.choice("张０٣Ａé\u00a0\u3000") + parts[i][at + 1 :]
    return "|".join(parts) + cr


def check_sound(lane, validator: Validator, line: str) -> bool:
    """Whether the lane accepts ``line``; when it does, the line must be valid."""
    m = lane.fullmatch(line)
    if m is None:
        return False
    raw = line.removesuffix("\r").split("|")[1:]
    assert list(m.groups()) == raw, repr(line)
    assert validator.fast(line) is not None, f"lane accepts, fast path refuses: {line!r}"
    typed, problems = schema_check(validator.schema, raw)
    assert problems == [] and typed is not None, f"lane accepts, schema refuses {problems}: {line!r}"
    return True


@pytest.mark.parametrize("bd", DATES, ids=ymd)
def test_lane_accepts_only_valid_lines_mutation(bd):
    ctx = Context.of(bd)
    lane = lane_pattern(SWIPE, ctx)
    validator = Validator(SWIPE, ctx)
    _, _, valid = sample(300, bd)
    assert any("|REVERSAL|" in v for v in valid) and any("|REFUND|" in v for v in valid)
    for line in valid:  # complete on ordinary data: every sample line, with CR or not
        assert check_sound(lane, validator, line), line
        assert check_sound(lane, validator, line + "\r"), line
    rng = random.Random(f"lane:{ymd(bd)}")
    accepted = refused = 0
    for _ in range(2500):
        line = rng.choice(valid) + ("\r" if rng.random() < 0.3 else "")
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            line = mutate(line, rng, bd)
        if check_sound(lane, validator, line):
            accepted += 1
        else:
            refused += 1
    # The mutations must exercise both sides, or the test proves nothing.
    assert accepted > 200 and refused > 1000, (accepted, refused)


def swipe_line(bd: date, txn_time: str, txn_type: str = "PURCHASE", orig: str = "", fen: str = "10") -> str:
    return f"D|T{ymd(bd)}1|K7Q2M9X4B1C8D3E5|2019004417|{txn_time}|{txn_type}|{orig}|POS|5812|{fen}"


def test_lane_edges_of_the_rules():
    """The named edges, each checked for soundness; the ordinary ones must be taken."""
    ctx = Context.of(BD)
    lane, validator = lane_pattern(SWIPE, ctx), Validator(SWIPE, ctx)
    day = ymd(BD)
    taken = [
        swipe_line(BD, f"{day}000000"),
        swipe_line(BD, f"{day}235959", "REFUND", fen="0"),
        swipe_line(BD, f"{day}120000", "REVERSAL", "T1", "-10"),
    ]
    for line in taken:
        assert check_sound(lane, validator, line) and check_sound(lane, validator, line + "\r")
    refused = [
        *(swipe_line(BD, t) for t in times(BD)[:4]),  # 24h, 60th second, next day, day before
        swipe_line(BD, f"{day}120000", "REVERSAL"),  # REVERSAL without orig_txn_id
        swipe_line(BD, f"{day}120000", "PURCHASE", "T1"),  # orig_txn_id for a PURCHASE
        swipe_line(BD, f"{day}120000", "REFUND", "T1"),
        *(swipe_line(BD, f"{day}120000", fen=f) for f in ("007", "1000000000000000000", "", "+10")),
        swipe_line(BD, f"{day}120000") + "\r\r",
        swipe_line(BD, f"{day}120000").replace("|POS|", "|P\rS|"),
        swipe_line(BD, f"{day}120000").replace("K7Q2", "k7Q2"),
        swipe_line(BD, f"{day}120000").replace("2019", "２019"),
        swipe_line(BD, f"{day}120000") + "|",
        swipe_line(BD, f"{day}120000").rsplit("|", 1)[0],
    ]
    for line in refused:
        assert not check_sound(lane, validator, line), repr(line)
    for fen in ("-0", "999999999999999999", "-999999999999999999"):  # valid; soundness only
        check_sound(lane, validator, swipe_line(BD, f"{day}120000", fen=fen))


def test_lane_sound_for_a_business_date_before_year_1000():
    bd = date(999, 11, 9)  # a header date 09991109 is a real date to the reader
    ctx = Context.of(bd)
    lane, validator = lane_pattern(SWIPE, ctx), Validator(SWIPE, ctx)
    for txn_time in ("9991109081532", f"{ymd(bd)}081532"):
        check_sound(lane, validator, swipe_line(bd, txn_time))


# ---- 2. which types have a lane, and its business date ------------------------------


@pytest.mark.parametrize("file_type", sorted(set(TYPES) - {"SWIPE"}))
def test_no_lane_for_types_whose_rules_a_pattern_cannot_hold(file_type):
    # CARDORDER: branch, RIC and photo rules; DONATION and others: dates; CARDSTATUS: a
    # time bound other than "on the day"; CARDREQ: a time without bound; ACK, ...
    assert lane_pattern(TYPES[file_type], Context.of(BD)) is None
    assert Validator(TYPES[file_type], Context.of(BD)).lane is None


def test_swipe_lane_depends_on_the_business_date():
    lane = lane_pattern(SWIPE, Context.of(BD))
    assert lane is not None and Validator(SWIPE, Context.of(BD)).lane.pattern == lane.pattern
    nxt = BD + timedelta(days=1)
    lane_next = lane_pattern(SWIPE, Context.of(nxt))
    assert lane_next is not None and lane_next.pattern != lane.pattern
    _, _, today = sample(50, BD)
    _, _, tomorrow = sample(50, nxt)
    assert all(lane.fullmatch(x) for x in today) and all(lane_next.fullmatch(x) for x in tomorrow)
    assert not any(lane.fullmatch(x) for x in tomorrow)
    assert not any(lane_next.fullmatch(x) for x in today)
    # the same line with only its time moved to the other day
    line = swipe_line(BD, f"{ymd(BD)}093000")
    assert lane.fullmatch(line) and not lane_next.fullmatch(line)
    assert lane_next.fullmatch(line.replace(ymd(BD) + "093000", ymd(nxt) + "093000"))


# ---- 3. texts() against records() on whole files ------------------------------------


def build(header: str, lines: list[str], eol: str = "\r\n", trailer: str | None = "auto") -> bytes:
    """A file; the automatic trailer counts the D lines and sums each integer fen, as the
    reader does (a record with errors counts, and so does its fen when it is one)."""
    if trailer == "auto":
        fens = [p[9] for p in (x.split("|") for x in lines) if len(p) == 10]
        total = sum(int(f) for f in fens if reader_module._INT_RE.fullmatch(f))
        trailer = f"T|{len(lines)}|{total}"
    out = [header, *lines] + ([trailer] if trailer is not None else [])
    return "".join(x + eol for x in out).encode("gb18030")


def line_starts(header: str, lines: list[str], eol: str) -> list[int]:
    """Byte offset of each line of ``build`` (the header is index 0); ASCII lines."""
    starts, at = [], 0
    for x in [header, *lines]:
        starts.append(at)
        at += len(x.encode("gb18030")) + len(eol)
    return starts


def straddling(header: str, lines: list[str], eol: str, boundary: int) -> int:
    """Index in ``lines`` of the D line holding byte ``boundary`` (its break included)."""
    starts = line_starts(header, lines, eol)
    i = max(k for k, s in enumerate(starts) if s <= boundary)
    return i - 1


def break_same_length(line: str, rng: random.Random, bd: date = BD) -> str:
    """A record error (one or two broken fields) that keeps the line's byte length, so
    the other lines stay where they were relative to the block boundaries."""
    p = line.split("|")
    for _ in range(rng.choice((1, 1, 2))):
        kind = rng.randrange(6)
        if kind == 0:
            p[8] = p[8][:2] + "X" + p[8][3:]  # mcc not four digits
        elif kind == 1:
            p[2] = p[2][:5] + p[2][5].lower() + p[2][6:]  # card_id lower case (maybe a digit)
            p[2] = p[2][:9] + "z" + p[2][10:]
        elif kind == 2:
            p[4] = ymd(bd + timedelta(days=1)) + p[4][8:]  # txn_time on another day
        elif kind == 3:
            p[7] = p[7][:-1] + "x"  # channel not an allowed value
        elif kind == 4:
            p[3] = p[3][:-1] + "A"  # volunteer_no not ten digits
        else:
            p[4] = p[4][:8] + "24" + p[4][10:]  # txn_time not a real time
    return "|".join(p)


def break_any(line: str, rng: random.Random) -> str:
    """A record error of any length or alphabet (the field count is kept: no E04)."""
    p = line.split("|")
    kind = rng.randrange(6)
    if kind == 0:
        p[1] = "张三" + p[1][2:]
    elif kind == 1:
        p[5], p[6] = ("REVERSAL", "") if p[5] != "REVERSAL" else ("PURCHASE", p[6])
    elif kind == 2:
        p[5], p[6] = "REFUND", "T1"
    elif kind == 3:
        p[9] = rng.choice(["007", "1000000000000000000", "", "十"])
    elif kind == 4:
        p[8] = p[8] + "\r"  # a CR inside the line
    else:
        p[2] = p[2].lower()
    return "|".join(p)


def raw_texts(data: bytes) -> dict[int, tuple[str, ...]]:
    """Each D line's field texts, taken from the file's own bytes (line numbers as the
    reader counts them: the header is 1)."""
    text = data.decode("gb18030", errors="replace")  # an E03 file: the lines before the byte
    return {
        n: tuple(x.removesuffix("\r").split("|")[1:])
        for n, x in enumerate(text.split("\n"), 1)
        if x.startswith("D|")
    }


def run(data: bytes, name: str, method: str, fast: bool = True):
    """Read ``data`` with ``texts`` or ``records``: ``(valid lines as (line, texts),
    record errors, summary, FileError)``; checks on the way that every record error of an
    earlier line is in the list before a record is yielded."""
    errors: list = []
    got, seen = [], []
    reader = read(io.BytesIO(data), file_name=name, sender="BOCSZ", receiver="SVA", fast=fast)
    texts = raw_texts(data)
    failure = None
    try:
        for item in getattr(reader, method)(errors):
            if method == "records":
                assert item.type == "SWIPE"
                item = (item.line, texts[item.line])
            got.append(item)
            seen.append(len(errors))
    except FileError as exc:
        failure = (exc.code, exc.reason, exc.line)
    for (line, _), k in zip(got, seen, strict=True):
        assert all(e.line > line for e in errors[k:]), f"an error before line {line} came late"
    assert [e.line for e in errors] == sorted(e.line for e in errors)
    s = reader.summary
    summary = None if s is None else (s.count, s.control_sum, s.good_records, s.bad_records, s.error_count)
    assert s is None or s.errors == errors[: reader_module.KEEP_ERRORS]
    assert (s is None) == (failure is not None)
    return got, errors, summary, failure


class CountingValidator(Validator):
    """The reader's validator, counting the lines the fast path is asked about: lines
    the lane took in a block never reach it."""

    calls = 0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        inner = self.fast
        if inner is not None:

            def fast(line):
                CountingValidator.calls += 1
                return inner(line)

            self.fast = fast


def same(data: bytes, name: str, monkeypatch=None, schema_too: bool = True):
    """``texts`` and ``records`` agree on ``data`` (and ``texts`` of the schema-only
    reader too, unless ``schema_too`` is false); returns the outcome and how many lines
    the fast path saw in ``texts``."""
    if monkeypatch is not None:
        monkeypatch.setattr(reader_module, "Validator", CountingValidator)
    CountingValidator.calls = 0
    by_texts = run(data, name, "texts")
    fast_calls = CountingValidator.calls
    by_records = run(data, name, "records")
    assert by_texts[1] == by_records[1]  # errors, in order
    assert by_texts[2] == by_records[2]  # summary
    assert by_texts[3] == by_records[3]  # FileError (code, reason, line)
    assert by_texts[0] == by_records[0]  # valid records as (line, field texts)
    if schema_too:
        assert run(data, name, "texts", fast=False) == by_records
    return by_records, fast_calls


@pytest.mark.parametrize("eol", ["\r\n", "\n"], ids=["CRLF", "LF"])
def test_texts_equal_records_on_a_clean_file_of_many_blocks(eol, monkeypatch):
    name, header, lines = sample(3000)
    data = build(header, lines, eol)
    assert len(data) > 6 * BLOCK
    (got, errors, summary, failure), fast_calls = same(data, name, monkeypatch)
    assert failure is None and errors == [] and len(got) == 3000
    assert summary[:3] == (3000, sum(int(x.split("|")[9]) for x in lines), 3000)
    # only the blocks holding the header or the trailer went the ordinary way
    assert 0 < fast_calls < 2 * BLOCK // 80


@pytest.mark.parametrize("shift", [0, 1, 7])
@pytest.mark.parametrize("eol", ["\r\n", "\n"], ids=["CRLF", "LF"])
def test_texts_equal_records_with_record_errors_at_block_boundaries(eol, shift, monkeypatch):
    name, header, lines = sample(3000)
    lines = list(lines)
    lines[0] = lines[0][:3] + lines[0][3 + shift :]  # a shorter txn_id moves every boundary
    rng = random.Random(f"boundaries:{eol}:{shift}")
    size = len(build(header, lines, eol))
    # lines[firsts[c]:firsts[c + 1]] is the block decoded from the c-th read of 32 KiB:
    # its first line is the one the boundary before it cuts
    firsts = [0] + [straddling(header, lines, eol, c * BLOCK) for c in range(1, size // BLOCK + 1)]
    firsts = [f for f in firsts if f < len(lines)] + [len(lines)]
    assert len(firsts) > 7
    broken, clean = set(), 0
    for c, (lo, hi) in enumerate(itertools.pairwise(firsts)):
        if c % 3 == 2 and hi < len(lines):
            clean += hi - lo  # the lane takes this block whole
            continue
        # at both ends of the block (so on both sides of a boundary) and inside it
        broken |= {lo, lo + 1, hi - 2, hi - 1, *rng.sample(range(lo + 2, hi - 2), 3)}
    for j in broken:
        lines[j] = break_same_length(lines[j], rng)
    assert size == len(build(header, lines, eol))
    data = build(header, lines, eol)
    (got, errors, summary, failure), fast_calls = same(data, name, monkeypatch)
    assert failure is None
    assert {e.line for e in errors} == {j + 2 for j in broken}
    assert summary[3] == len(broken) and len(got) == 3000 - len(broken)
    assert clean > 600 and fast_calls == 3000 - clean + 1  # + the trailer's line


@pytest.mark.parametrize("seed", range(4))
def test_texts_equal_records_with_record_errors_of_any_kind(seed, monkeypatch):
    name, header, lines = sample(3000)
    rng = random.Random(f"any:{seed}")
    lines = list(lines)
    broken = rng.sample(range(len(lines)), 40)
    for j in broken:
        lines[j] = break_any(lines[j], rng)
    if seed % 2:  # mixed line endings: CRLF up to a random line, LF after it
        cut = len(header) + 2 + sum(len(x.encode("gb18030")) + 2 for x in lines[: rng.randrange(3000)])
        crlf = build(header, lines)
        data = crlf[:cut] + crlf[cut:].replace(b"\r\n", b"\n")
    else:
        data = build(header, lines, rng.choice(["\r\n", "\n"]))
    (got, errors, summary, failure), _ = same(data, name, monkeypatch)
    assert failure is None and {e.line for e in errors} == {j + 2 for j in broken}


@pytest.mark.parametrize("char", ["张", "ä"])  # two bytes and four bytes in GB18030
def test_texts_equal_records_with_a_character_split_by_a_block_boundary(char, monkeypatch):
    name, header, lines = sample(1000)
    for shift in range(8):
        work = list(lines)
        work[0] = work[0][:3] + work[0][3 + shift :]
        i = straddling(header, work, "\r\n", BLOCK)
        nbytes = len(char.encode("gb18030"))
        work[i] = "|".join(  # same byte length: the boundary stays inside this line
            (char * (len(f) // nbytes) + f[: len(f) % nbytes]) if k else f
            for k, f in enumerate(work[i].split("|"))
        )
        data = build(header, work)
        try:
            data[:BLOCK].decode("gb18030")
        except UnicodeDecodeError:
            break  # the boundary splits a character
    else:
        raise AssertionError("no shift put the boundary inside a character")
    (got, errors, summary, failure), _ = same(data, name, monkeypatch)
    assert failure is None and {e.line for e in errors} == {i + 2} and len(got) == 999


def late_bad_byte(data: bytes, before: int = 300) -> tuple[bytes, int]:
    """``data`` with a byte that is not GB18030 in the txn_id of a D line about
    ``before`` bytes from the end, and the number of that line."""
    at = data.rindex(b"\nD|", 0, len(data) - before) + 4
    return data[:at] + b"\xff" + data[at + 1 :], data[:at].count(b"\n") + 1


def trailer_at_boundary(header: str, lines: list[str], eol: str, boundary: int) -> tuple[bytes, list[str]]:
    """A valid file of the first lines whose trailer's line break is the last byte before
    ``boundary`` (txn_ids shortened to get there), and the lines not in it."""
    n = next(n for n in range(len(lines)) if len(build(header, lines[:n], eol)) >= boundary)
    work, excess = list(lines[:n]), len(build(header, lines[:n], eol)) - boundary
    for k in range(len(work)):
        cut = min(excess, 20)
        work[k], excess = work[k][:3] + work[k][3 + cut :], excess - cut
    data = build(header, work, eol)
    assert len(data) == boundary and data.endswith(eol.encode())
    return data, list(lines[n:])


@pytest.mark.parametrize("eol", ["\r\n", "\n"], ids=["CRLF", "LF"])
def test_texts_equal_records_on_whole_file_errors(eol, monkeypatch):
    name, header, lines = sample(3000)
    last = len(lines) + 2  # the trailer's line
    count = len(lines)
    total = sum(int(x.split("|")[9]) for x in lines)
    clean = build(header, lines, eol)
    cases = {
        "count": (build(header, lines, eol, f"T|{count + 1}|{total}"), ("E04", last)),
        "sum": (build(header, lines, eol, f"T|{count}|{total - 10}"), ("E04", last)),
        "no trailer": (build(header, lines, eol, None), ("E04", None)),
        "after trailer": (clean + (lines[5] + eol).encode(), ("E04", last + 1)),
        "empty line": (build(header, [*lines[:1500], "", *lines[1500:]], eol), ("E04", 1502)),
        "field count": (build(header, [*lines[:2000], lines[7] + "|", *lines[2000:]], eol), ("E04", 2002)),
    }
    bad, at = late_bad_byte(clean)
    assert at > 2900
    cases["bad byte"] = (bad, ("E03", at))
    cases["bad byte after count"] = (late_bad_byte(cases["count"][0])[0], ("E03", at))
    cases["bad byte after after-trailer"] = (
        cases["after trailer"][0] + b"D|\x81\x20" + eol.encode(),
        ("E03", last + 2),
    )
    # a trailer that ends exactly at a 32 KiB boundary: the blocks after it are all
    # well-formed D lines, which must not go by the lane
    head, tail = trailer_at_boundary(header, lines, eol, 4 * BLOCK)
    after = head + "".join(x + eol for x in tail).encode()
    cases["blocks after trailer"] = (after, ("E04", head.count(b"\n") + 1))
    bad_after, at_after = late_bad_byte(after)
    cases["bad byte after blocks after trailer"] = (bad_after, ("E03", at_after))
    broken = list(lines)
    rng = random.Random("file-errors")
    for j in rng.sample(range(len(lines)), 30):
        broken[j] = break_same_length(broken[j], rng)
    cases["sum with record errors"] = (build(header, broken, eol, f"T|{count}|{total + 10}"), ("E04", last))
    for case, (data, (code, line)) in cases.items():
        (got, errors, summary, failure), _ = same(data, name, monkeypatch, schema_too=case == "count")
        assert failure is not None and (failure[0], failure[2]) == (code, line), (case, failure)
        assert summary is None
        assert len(got) > 1000, case  # records were yielded before the file failed


def test_texts_equal_records_on_small_files():
    """Files of a single block: header, lines and trailer all in the first read."""
    name, header, lines = sample(20)
    rng = random.Random("small")
    for variant in range(30):
        work = list(lines[: rng.randrange(0, 21)])
        for j in rng.sample(range(len(work)), min(len(work), rng.randrange(4))):
            work[j] = break_any(work[j], rng) if rng.random() < 0.5 else break_same_length(work[j], rng)
        data = build(header, work, rng.choice(["\r\n", "\n"]))
        if variant % 5 == 4:
            data = data.removesuffix(b"\n").removesuffix(b"\r")  # no final line break
        same(data, name)


def test_texts_equal_records_for_a_business_date_before_year_1000():
    """The same fault through the reader: ``texts`` takes records ``records`` refuses."""
    header = "H|SWIPE|1.0|BOCSZ|SVA|09991109|001|09991110010002"
    lines = [f"D|T{i}|K7Q2M9X4B1C8D3E5|2019004417|9991109081532|PURCHASE||POS|5812|10" for i in range(600)]
    same(build(header, lines), "SWIPE_BOCSZ_09991109_001.txt")
