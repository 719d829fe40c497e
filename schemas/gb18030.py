"""GB18030-2022, the encoding of every partner file (partners/README.md).

Python's ``gb18030`` codec follows GB18030-2005. The 2022 edition changed the mapping of
18 two-byte codes that 2005 sent to private-use code points: ten vertical presentation
forms (``A6D9``… ↔ U+FE10–U+FE19) and eight CJK characters (``FE59``… ↔ U+9FB4–U+9FBB).
The four-byte codes that 2005 gave those characters now map to the freed private-use
points, so the change is a swap of 18 pairs of code points on top of the 2005 codec, in
both directions. Without it a name holding one of those characters would reach a 2022
partner as a private-use character, and their two-byte codes would read as private use.

The swap costs nothing for an ASCII chunk (every SWIPE file) and one pattern search for
any other chunk that holds none of the 36 code points.
"""

from __future__ import annotations

import codecs
import re

CODEC_2005 = "gb18030"

# Two-byte code -> its GB18030-2022 character (the 2005 codec gives a private-use one).
CHANGED_IN_2022 = {
    b"\xa6\xd9": "\ufe10",
    b"\xa6\xdb": "\ufe11",
    b"\xa6\xda": "\ufe12",
    b"\xa6\xdc": "\ufe13",
    b"\xa6\xdd": "\ufe14",
    b"\xa6\xde": "\ufe15",
    b"\xa6\xdf": "\ufe16",
    b"\xa6\xec": "\ufe17",
    b"\xa6\xed": "\ufe18",
    b"\xa6\xf3": "\ufe19",
    b"\xfe\x59": "\u9fb4",
    b"\xfe\x61": "\u9fb5",
    b"\xfe\x66": "\u9fb6",
    b"\xfe\x67": "\u9fb7",
    b"\xfe\x6d": "\u9fb8",
    b"\xfe\x7e": "\u9fb9",
    b"\xfe\x90": "\u9fba",
    b"\xfe\xa0": "\u9fbb",
}

_SWAP: dict[int, str] = {}
for _code, _new in CHANGED_IN_2022.items():
    _old = _code.decode(CODEC_2005)
    _SWAP[ord(_old)] = _new
    _SWAP[ord(_new)] = _old
_SWAP_RE = re.compile("[" + "".join(sorted(chr(c) for c in _SWAP)) + "]")


def _swap(text: str) -> str:
    # isascii() is a flag look-up on a str: an ASCII chunk (every SWIPE file) costs nothing.
    if text.isascii() or not _SWAP_RE.search(text):
        return text
    return text.translate(_SWAP)


def encode(text: str) -> bytes:
    """``text`` in GB18030-2022 (``UnicodeEncodeError`` for a lone surrogate)."""
    return _swap(text).encode(CODEC_2005)


def decode(data: bytes) -> str:
    """GB18030-2022 bytes as text (``UnicodeDecodeError`` for invalid bytes)."""
    return _swap(data.decode(CODEC_2005))


class IncrementalDecoder:
    """Chunk by chunk, as ``codecs``' incremental decoders; errors are strict and the
    ``UnicodeDecodeError`` is the 2005 codec's own (its ``start`` indexes the chunk)."""

    def __init__(self) -> None:
        self._inner = codecs.getincrementaldecoder(CODEC_2005)("strict")

    def decode(self, data: bytes, final: bool = False) -> str:
        # ASCII is itself in GB18030: with no half sequence pending from the last chunk,
        # an ASCII chunk (every SWIPE file) decodes at memory speed, not byte by byte.
        if data.isascii() and not self._inner.getstate()[0]:
            return data.decode("ascii")
        # The swapped code points are single characters on both sides: a chunk boundary
        # never splits one after decoding.
        return _swap(self._inner.decode(data, final))
