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
