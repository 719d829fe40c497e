"""Whatever damage a file takes, opening it gives the original bytes or a coded refusal:
never other bytes, never an uncoded exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keys.envelope import EnvelopeError, open_envelope, open_file
from tests.keys.fixtures import Identities, inbound

PLAIN = b"H|SWIPE|1.0|BOCSZ|SVA|20261130|001|20261130093000\r\n" + b"D|1|2|3\r\n" * 40 + b"T|40|0\r\n"


@pytest.fixture(scope="module")
def sealed(keystore_template, identities: Identities):
    from keys.keystore import Keystore
    from tests.keys.fixtures import PASSPHRASE

    ks = Keystore(keystore_template, PASSPHRASE)
    return inbound(ks, PLAIN, identities.bank), ks.decryption_keys(), ks.partner_certs("BOCSZ")


def _check(data: bytes, sealed, tmp_path: Path) -> None:
    _, keys, pinned = sealed
    f = tmp_path / "in.p7m"
    f.write_bytes(data)
    # Both paths: into a new buffer, and in place in the buffer the file was read into.
    for open_ in (lambda: open_envelope(data, keys, pinned), lambda: bytes(open_file(f, keys, pinned))):
        try:
            out = open_()
        except EnvelopeError as exc:
            assert exc.code in ("E01", "E02")
            assert "\n" not in exc.reason
        else:
            assert out == PLAIN


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_files_are_refused_with_a_code(sealed, data, tmp_path: Path) -> None:
    raw = bytearray(sealed[0])
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "replace"]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    if kind == "flip":
        raw[pos] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        del raw[pos:]
    elif kind == "insert":
        raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
    else:
        n = data.draw(st.integers(1, 64))
        raw[pos : pos + n] = data.draw(st.binary(min_size=n, max_size=n))
    _check(bytes(raw), sealed, tmp_path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(max_size=300))
def test_arbitrary_bytes_are_refused_with_a_code(sealed, junk: bytes, tmp_path: Path) -> None:
    _check(junk, sealed, tmp_path)
