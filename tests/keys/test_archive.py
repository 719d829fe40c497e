import io
import os

import pytest

from keys.archive import CHUNK, ArchiveError, decrypt_stream, encrypt_stream

K1, K2 = os.urandom(32), os.urandom(32)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_round_trip_any_size(size):
    plain = os.urandom(size)
    sealed = io.BytesIO()
    assert encrypt_stream(K1, io.BytesIO(plain), sealed) == size
    out = io.BytesIO()
    decrypt_stream([K2, K1], io.BytesIO(sealed.getvalue()), out)
    assert out.getvalue() == plain


def test_truncation_and_tampering_and_unknown_key_refused():
    sealed = io.BytesIO()
    encrypt_stream(K1, io.BytesIO(os.urandom(2 * CHUNK + 5)), sealed)
    data = sealed.getvalue()
    with pytest.raises(ArchiveError, match="damaged or truncated"):
        decrypt_stream([K1], io.BytesIO(data[: 16 + CHUNK + 16]), io.BytesIO())  # drop the tail chunks
    flipped = bytearray(data)
    flipped[100] ^= 1
    with pytest.raises(ArchiveError, match="damaged"):
        decrypt_stream([K1], io.BytesIO(bytes(flipped)), io.BytesIO())
    with pytest.raises(ArchiveError, match="unknown archive key"):
        decrypt_stream([K2], io.BytesIO(data), io.BytesIO())
    with pytest.raises(ArchiveError, match="not an archive"):
        decrypt_stream([K1], io.BytesIO(b"plain text"), io.BytesIO())


class _Trickle(io.RawIOBase):
    """A stream that returns at most 1,000 bytes a read (a pipe, a socket, a raw file)."""

    def __init__(self, data: bytes) -> None:
        self._src = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._src.read(min(n, 1000) if n >= 0 else 1000)


def test_short_reads_lose_nothing():
    # A short read is not the end of the stream: archiving a pipe must keep every byte.
    plain = os.urandom(2 * CHUNK + 7)
    sealed = io.BytesIO()
    assert encrypt_stream(K1, _Trickle(plain), sealed) == len(plain)
    out = io.BytesIO()
    assert decrypt_stream([K1], _Trickle(sealed.getvalue()), out) == len(plain)
    assert out.getvalue() == plain
