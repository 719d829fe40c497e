"""Minimal DER reading and writing over memoryviews.

asn1crypto parses the small parts of an envelope (certificates, recipient infos, signed
attributes); the big OCTET STRINGs (the file itself, 100 MB and more) are located with
these helpers without being copied, and their headers are written by hand.
"""

from __future__ import annotations

from dataclasses import dataclass


class DerError(ValueError):
    """The bytes are not the DER structure expected; the message says where."""


@dataclass(frozen=True)
class Tlv:
    """One element: ``tag`` byte, the offset of its value and its length, in ``buf``."""

    tag: int
    start: int  # offset of the tag byte
    vstart: int  # offset of the value
    length: int

    @property
    def end(self) -> int:
        return self.vstart + self.length


def read_tlv(buf: memoryview, pos: int, end: int | None = None) -> Tlv:
    """The element starting at ``pos``; refuses indefinite lengths and overruns."""
    limit = len(buf) if end is None else end
    if pos + 2 > limit:
        raise DerError(f"truncated element at offset {pos}")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise DerError(f"multi-byte tag at offset {pos} not expected")
    first = buf[pos + 1]
    hdr = pos + 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DerError(f"indefinite length at offset {pos} (BER, not DER)")
    else:
        n = first & 0x7F
        if n > 8 or hdr + n > limit:
            raise DerError(f"bad length at offset {pos}")
        length = int.from_bytes(buf[hdr : hdr + n], "big")
        if length < 0x80 or buf[hdr] == 0:
            raise DerError(f"non-minimal length at offset {pos}")
        hdr += n
    if hdr + length > limit:
        raise DerError(f"element at offset {pos} runs past its container (truncated?)")
    return Tlv(tag, pos, hdr, length)


def expect(buf: memoryview, pos: int, tag: int, end: int | None = None, what: str = "") -> Tlv:
    tlv = read_tlv(buf, pos, end)
    if tlv.tag != tag:
        raise DerError(f"{what or 'element'} at offset {pos}: tag 0x{tlv.tag:02x}, expected 0x{tag:02x}")
    return tlv


def children(buf: memoryview, parent: Tlv) -> list[Tlv]:
    """The elements inside a constructed ``parent``, which must fill it exactly."""
    out = []
    pos = parent.vstart
    while pos < parent.end:
        tlv = read_tlv(buf, pos, parent.end)
        out.append(tlv)
        pos = tlv.end
    return out


def header(tag: int, length: int) -> bytes:
    """Tag and definite length octets of an element whose value is ``length`` bytes."""
    if length < 0x80:
        return bytes((tag, length))
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(raw))) + raw


def wrap(tag: int, *parts: bytes) -> bytes:
    """A complete element around small ``parts`` (for the big ones use ``header``)."""
    body = b"".join(parts)
    return header(tag, len(body)) + body


SEQUENCE = 0x30
SET = 0x31
OCTET_STRING = 0x04
OID = 0x06
INTEGER = 0x02
CTX0 = 0xA0  # [0] constructed
CTX1 = 0xA1
CTX0_PRIM = 0x80  # [0] primitive (EncryptedContent, IMPLICIT OCTET STRING)
