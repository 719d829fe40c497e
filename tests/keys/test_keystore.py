"""Keystore: creation, permissions, pinning partners' certificates and host keys, rotation."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

import paramiko
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from keys.envelope import EnvelopeError
from keys.identity import cert_pem, fingerprint, key_pem
from keys.keystore import Keystore, KeystoreError
from tests.keys.fixtures import PASSPHRASE, Identities, inbound

PLAIN = b"H|TEST\r\nT|0|0\r\n"


def test_init_refuses_to_overwrite(ks: Keystore) -> None:
    before = ks.certificate("sign")
    with pytest.raises(KeystoreError, match="refusing to overwrite"):
        ks.init()
    assert Keystore(ks.path, PASSPHRASE).certificate("sign") == before


def test_private_keys_are_encrypted_and_private(ks: Keystore) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_ssh_private_key

    for key_file in [*ks.path.glob("sign/*.key"), *ks.path.glob("decrypt/*.key"), ks.path / "ssh/id_ed25519"]:
        assert os.stat(key_file).st_mode & 0o777 == 0o600
        load = load_ssh_private_key if "ssh" in key_file.parts else load_pem_private_key
        with pytest.raises(TypeError, match="encrypted|password"):  # no passphrase, no key
            load(key_file.read_bytes(), None)


def test_group_readable_private_key_is_refused_with_the_fix(ks: Keystore) -> None:
    key_file = next(ks.path.glob("decrypt/*.key"))
    key_file.chmod(0o644)
    with pytest.raises(KeystoreError) as err:
        Keystore(ks.path, PASSPHRASE).decryption_keys()
    assert str(key_file) in str(err.value)
    assert f"chmod 600 {key_file}" in str(err.value)


def test_wrong_passphrase_is_named(ks: Keystore) -> None:
    with pytest.raises(KeystoreError, match="SVCARD_KEY_PASSPHRASE"):
        Keystore(ks.path, "not-the-passphrase").signer()


def test_our_certificates_follow_the_partner_profile(ks: Keystore) -> None:
    from keys.identity import check_profile

    for role in ("sign", "decrypt"):
        cert = ks.certificate(role)
        check_profile(cert)
        assert cert.public_key().key_size == 3072


def test_ssh_client_key_loads_in_paramiko(ks: Keystore) -> None:
    key = ks.ssh_client_key()
    assert isinstance(key, paramiko.PKey)
    line = ks.ssh_public_line()
    assert line.split()[:2] == [key.get_name(), key.get_base64()]
    assert line == (ks.path / "ssh/id_ed25519.pub").read_text().strip()


# ------------------------------------------------------------------ pinning certificates


def _cert(
    key,
    *,
    ku: tuple[bool, bool] | None = None,
    eku=None,
    days: int = 365,
    issuer_key=None,
    not_before: dt.datetime | None = None,
) -> x509.Certificate:
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partner")])
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
    )
    if ku is not None:
        b = b.add_extension(
            x509.KeyUsage(ku[0], False, ku[1], False, False, False, False, False, False), True
        )
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), False)
    return b.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture(scope="module")
def rsa3072(identities: Identities) -> rsa.RSAPrivateKey:
    return identities.stranger[1]


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.PEM)


REFUSALS: dict[str, tuple[Callable[[rsa.RSAPrivateKey], bytes], str]] = {
    "a private key in the file": (lambda k: _pem(_cert(k)) + key_pem(k), "private key"),
    "RSA-2048": (lambda k: _pem(_cert(rsa.generate_private_key(65537, 2048))), "2048 bits"),
    "EC key": (lambda k: _pem(_cert(ec.generate_private_key(ec.SECP256R1()))), "requires RSA"),
    "expired": (
        lambda k: _pem(_cert(k, not_before=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), days=30)),
        "expired",
    ),
    "key usage without keyEncipherment": (lambda k: _pem(_cert(k, ku=(True, False))), "keyEncipherment"),
    "EKU without emailProtection": (
        lambda k: _pem(_cert(k, eku=[ExtendedKeyUsageOID.SERVER_AUTH])),
        "emailProtection",
    ),
    "anyExtendedKeyUsage only": (
        lambda k: _pem(_cert(k, eku=[ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE])),
        "emailProtection",
    ),
    "not self-signed": (
        lambda k: _pem(_cert(k, issuer_key=rsa.generate_private_key(65537, 3072))),
        "self-signature",
    ),
    "two certificates": (lambda k: _pem(_cert(k)) + _pem(_cert(k)), "exactly one"),
    "not a certificate": (lambda k: b"hello", "not a PEM or DER"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_trust_refuses(case: str, ks: Keystore, rsa3072) -> None:
    make, message = REFUSALS[case]
    before = ks.partner_certs("SZT")
    with pytest.raises(KeystoreError, match=message):
        ks.trust("SZT", make(rsa3072))
    assert ks.partner_certs("SZT") == before


def test_trust_accepts_profile_variants_and_untrust_withdraws(ks: Keystore, rsa3072) -> None:
    good = [
        _cert(rsa3072),  # no extensions at all
        _cert(
            rsa3072,
            ku=(True, True),
            eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.SERVER_AUTH],
        ),
    ]
    fps = [ks.trust("SZHC", _pem(c)) for c in good]
    ks.trust("SZHC", good[0].public_bytes(Encoding.DER))  # DER too; pinning again is harmless
    assert sorted(fingerprint(c) for c in ks.partner_certs("SZHC")) == sorted(fps)
    colon_form = "SHA256:" + ":".join(fps[0][i : i + 2].upper() for i in range(0, 64, 2))
    ks.untrust("SZHC", colon_form)
    assert [fingerprint(c) for c in ks.partner_certs("SZHC")] == [fps[1]]
    with pytest.raises(KeystoreError, match="no certificate"):
        ks.untrust("SZHC", fps[0])


def test_unknown_partner_is_refused(ks: Keystore, identities: Identities) -> None:
    with pytest.raises(KeystoreError, match="unknown partner 'BOC'"):
        ks.trust("BOC", cert_pem(identities.bank[0]))


# ------------------------------------------------------------------ SSH host keys


def _host_line(host: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import PublicFormat

    pub = (
        ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    )
    return f"{host} {pub.decode()}"


def test_trust_host_pins_several_keys(ks: Keystore) -> None:
    a, b = _host_line("[127.0.0.1]:2222"), _host_line("[127.0.0.1]:2222")
    c = _host_line(paramiko.HostKeys.hash_host("sftp.bank.example"))
    assert ks.trust_host("BOCSZ", f"# sandbox\n{a}\n\n{b}\n{c}\n") == 3
    assert ks.trust_host("BOCSZ", a) == 0  # already pinned
    # Both same-type keys of a host key rotation are returned (paramiko.HostKeys keeps one).
    assert [k.get_base64() for k in ks.host_key_list("BOCSZ", "127.0.0.1", 2222)] == [
        a.split()[2],
        b.split()[2],
    ]
    assert [k.get_base64() for k in ks.host_key_list("BOCSZ", "sftp.bank.example")] == [c.split()[2]]
    assert ks.host_key_list("BOCSZ", "127.0.0.1") == []  # port 22: not pinned
    assert len(ks.host_key_list("BOCSZ")) == 3
    assert ks.host_keys("BOCSZ").lookup("[127.0.0.1]:2222") is not None


def test_trust_host_refuses_bad_line_and_soap_partner(ks: Keystore) -> None:
    with pytest.raises(KeystoreError, match="line 2"):
        ks.trust_host("SZT", _host_line("h") + "\nh ssh-ed25519 not-base64!!\n")
    assert len(ks.host_keys("SZT")) == 0
    with pytest.raises(KeystoreError, match="unknown SFTP partner"):
        ks.trust_host("SZHC", _host_line("h"))


# ------------------------------------------------------------------ rotation


def test_decryption_key_rotation_changeover_and_retirement(ks: Keystore, identities: Identities) -> None:
    to_old = inbound(ks, b"to old", identities.bank)
    old_fp = fingerprint(ks.certificate("decrypt"))
    ks.rotate("decrypt")
    assert fingerprint(ks.certificate("decrypt")) != old_fp
    to_new = inbound(ks, b"to new", identities.bank)

    # Changeover: both open, also from a freshly loaded keystore (another process).
    for store in (ks, Keystore(ks.path, PASSPHRASE)):
        assert store.open(to_old, from_="BOCSZ") == b"to old"
        assert store.open(to_new, from_="BOCSZ") == b"to new"
    roles = {e.fingerprint: e.role for e in ks.listing()}
    assert roles[old_fp] == "decrypt (previous)"

    assert len(ks.retire()) == 1
    store = Keystore(ks.path, PASSPHRASE)
    assert store.open(to_new, from_="BOCSZ") == b"to new"
    with pytest.raises(EnvelopeError) as err:
        store.open(to_old, from_="BOCSZ")
    assert err.value.code == "E01"
    assert {e.fingerprint: e.role for e in store.listing()}[old_fp] == "decrypt (retired)"


def test_signing_key_rotation(ks: Keystore, identities: Identities) -> None:
    old = ks.certificate("sign")
    ks.rotate("sign")
    new = ks.certificate("sign")
    assert new != old and ks.signer()[0] == new
    sealed = ks.seal(PLAIN, to="BOCSZ")
    # A partner that pinned only the old certificate refuses; with the new one it opens.
    from keys.envelope import open_envelope

    with pytest.raises(EnvelopeError, match="not pinned"):
        open_envelope(sealed, [identities.bank], [old])
    assert open_envelope(sealed, [identities.bank], [old, new]) == PLAIN


def test_listing_shows_every_key_with_role_and_validity(ks: Keystore) -> None:
    entries = ks.listing()
    roles = [e.role for e in entries]
    assert roles[:3] == ["sign (current)", "decrypt (current)", "ssh client key"]
    assert roles.count("partner BOCSZ certificate") == 2
    for e in entries:
        if "certificate" in e.role or e.role.startswith(("sign", "decrypt")):
            assert len(e.fingerprint) == 64 and e.not_before < e.not_after
        else:
            assert e.fingerprint.startswith("SHA256:")
