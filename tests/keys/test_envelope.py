"""Envelopes: round trips, and every refusal ending in its ACK code with nothing written."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding

from gateway.cli import envelope as envelope_cli
from keys import envelope
from keys.envelope import EnvelopeError, open_envelope
from keys.keystore import Keystore
from tests.keys.fixtures import Identities, inbound

PLAIN = "H|CARDSTATUS|1.0|BOCSZ|SVA|20261130|001|20261130093000\r\nT|0|0\r\n".encode("gb18030")


def test_partner_file_opens_with_our_keystore(ks: Keystore, identities: Identities) -> None:
    assert ks.open(inbound(ks, PLAIN, identities.bank), from_="BOCSZ") == PLAIN


def test_pss_signature_is_accepted(ks: Keystore, identities: Identities) -> None:
    assert ks.open(inbound(ks, PLAIN, identities.bank, pss=True), from_="BOCSZ") == PLAIN


def test_our_file_opens_at_the_partner(ks: Keystore, identities: Identities) -> None:
    sealed = ks.seal(PLAIN, to="BOCSZ")
    # The bank opens it with its own key and our pinned signing certificate.
    assert open_envelope(sealed, [identities.bank], [ks.certificate("sign")]) == PLAIN


def test_sealed_to_every_current_partner_certificate(ks: Keystore, identities: Identities) -> None:
    ks.trust("BOCSZ", identities.stranger[0].public_bytes(Encoding.PEM))  # a second, announced cert
    sealed = ks.seal(PLAIN, to="BOCSZ")
    for key in (identities.bank, identities.stranger):
        assert open_envelope(sealed, [key], [ks.certificate("sign")]) == PLAIN


def test_large_binary_content_round_trips(ks: Keystore, identities: Identities) -> None:
    data = bytes(range(256)) * 4099  # crosses every DER length form and AES block boundary
    assert ks.open(inbound(ks, data, identities.bank), from_="BOCSZ") == data


def test_signer_certificate_pinned_for_another_partner_is_refused(
    ks: Keystore, identities: Identities
) -> None:
    with pytest.raises(EnvelopeError) as err:
        ks.open(inbound(ks, PLAIN, identities.bank), from_="SZT")
    assert err.value.code == "E02"
    assert "not pinned" in err.value.reason


# ------------------------------------------------------------------ damaged files


def _flip(data: bytes, pos: int) -> bytes:
    b = bytearray(data)
    b[pos] ^= 0x01
    return bytes(b)


def _swapped_attrs(ks: Keystore, ids: Identities) -> bytes:
    """A valid signature by the bank, but over the signed attributes of other content."""
    other = PLAIN.replace(b"001", b"002")
    assert len(other) == len(PLAIN)
    a = envelope.signed_data(PLAIN, *ids.bank)
    b = envelope.signed_data(other, *ids.bank)
    end = a.index(PLAIN) + len(PLAIN)  # same lengths: the headers agree up to here
    spliced = a[:end] + b[end:]  # PLAIN's content, the signerInfo made for `other`
    return bytes(envelope.envelop([spliced], [ks.certificate("decrypt")]))


def _bad_signature(ks: Keystore, ids: Identities) -> bytes:
    signed = envelope.signed_data(PLAIN, *ids.bank)
    return bytes(envelope.envelop([_flip(signed, len(signed) - 1)], [ks.certificate("decrypt")]))


def _pss_without_parameters(ks: Keystore, ids: Identities) -> bytes:
    """The signer's algorithm says RSASSA-PSS but carries NULL instead of PSS parameters."""
    signed = envelope.signed_data(PLAIN, *ids.bank)
    rsa_alg = bytes.fromhex("300d06092a864886f70d0101010500")
    at = signed.rindex(rsa_alg)  # the SignerInfo's, after the certificate's
    bad = signed[:at] + bytes.fromhex("300d06092a864886f70d01010a0500") + signed[at + len(rsa_alg) :]
    return bytes(envelope.envelop([bad], [ks.certificate("decrypt")]))


def _pem(ks: Keystore, ids: Identities) -> bytes:
    der = inbound(ks, PLAIN, ids.bank)
    return b"-----BEGIN CMS-----\n" + base64.encodebytes(der) + b"-----END CMS-----\n"


CASES: dict[str, tuple[Callable[[Keystore, Identities], bytes], str]] = {
    "flipped byte mid-file": (lambda ks, i: _flip(b := inbound(ks, PLAIN, i.bank), len(b) // 2), "E02"),
    "flipped byte in the signature": (lambda ks, i: _flip(inbound(ks, PLAIN, i.bank), -60), "E02"),
    "flipped byte in the padding": (lambda ks, i: _flip(inbound(ks, PLAIN, i.bank), -17), "E01"),
    "truncated file": (lambda ks, i: inbound(ks, PLAIN, i.bank)[:-100], "E01"),
    "sealed to someone else": (
        lambda ks, i: envelope.seal(PLAIN, *i.bank, [i.stranger[0]]),
        "E01",
    ),
    "signer not pinned": (lambda ks, i: inbound(ks, PLAIN, i.stranger), "E02"),
    "pinned but expired signer": (lambda ks, i: inbound(ks, PLAIN, i.expired_bank), "E02"),
    "signed attributes swapped": (_swapped_attrs, "E02"),
    "signature bytes wrong": (_bad_signature, "E02"),
    "PSS signature without parameters": (_pss_without_parameters, "E02"),
    "empty file": (lambda ks, i: b"", "E01"),
    "PEM instead of DER": (_pem, "E01"),
    "not CMS at all": (lambda ks, i: PLAIN, "E01"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_with_code_and_nothing_written(
    case: str, ks: Keystore, identities: Identities, cli_runtime, tmp_path: Path
) -> None:
    make, code = CASES[case]
    bad = make(ks, identities)
    with pytest.raises(EnvelopeError) as err:
        ks.open(bad, from_="BOCSZ")
    assert err.value.code == code, err.value.reason

    src, out = tmp_path / "IN.txt.p7m", tmp_path / "OUT.txt"
    src.write_bytes(bad)
    result = CliRunner().invoke(envelope_cli.cli, ["open", "--from", "BOCSZ", str(src), str(out)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"svcard envelope: {code} IN.txt.p7m: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".OUT")] == []


def test_cli_round_trip(ks: Keystore, identities: Identities, cli_runtime, tmp_path: Path) -> None:
    src, out = tmp_path / "in.p7m", tmp_path / "plain.txt"
    src.write_bytes(inbound(ks, PLAIN, identities.bank))
    result = CliRunner().invoke(envelope_cli.cli, ["open", "--from", "BOCSZ", str(src), str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == PLAIN

    sealed = tmp_path / "out.p7m"
    result = CliRunner().invoke(envelope_cli.cli, ["seal", "--to", "BOCSZ", str(out), str(sealed)])
    assert result.exit_code == 0, result.output
    assert open_envelope(sealed.read_bytes(), [identities.bank], [ks.certificate("sign")]) == PLAIN


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 127, 128, 129, 65_535, 65_536, 1_000_003])
def test_file_paths_agree_with_the_in_memory_ones(
    size: int, ks: Keystore, identities: Identities, tmp_path: Path
) -> None:
    """seal_file/open_file encrypt and decrypt in place; every DER length form and
    block alignment must give what seal/open_envelope give."""
    data = os.urandom(size)
    src = tmp_path / "f"
    src.write_bytes(data)
    sealed = ks.seal_file(src, to="BOCSZ")
    assert open_envelope(sealed, [identities.bank], [ks.certificate("sign")]) == data
    inbound_file = tmp_path / "f.p7m"
    inbound_file.write_bytes(inbound(ks, data, identities.bank))
    assert bytes(ks.open_file(inbound_file, from_="BOCSZ")) == data
