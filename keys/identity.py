"""Key pairs and self-signed certificates following the partner profile.

partners/README.md ("Envelope"): certificates are self-signed RSA of 3072 bits or more,
with no extended key usage or one including ``emailProtection``, and, if key usage is
present, ``digitalSignature`` and ``keyEncipherment``. Ours follow it, so partners'
``openssl cms`` accepts them; ``check_profile`` refuses a partner certificate that does
not (``openssl cms -verify`` would refuse it later, file after file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MIN_RSA_BITS = 3072
DEFAULT_DAYS = 730

Identity = tuple[x509.Certificate, rsa.RSAPrivateKey]


class ProfileError(ValueError):
    """A certificate breaks the partner certificate profile; the message names the rule."""


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, lower-case hex (what ``list`` and ``untrust`` use)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def make_identity(
    common_name: str,
    *,
    days: int = DEFAULT_DAYS,
    not_before: dt.datetime | None = None,
    bits: int = MIN_RSA_BITS,
    organization: str | None = None,
) -> Identity:
    """A fresh RSA key and a self-signed certificate following the partner profile.

    ``not_before`` (UTC, default now minus 5 minutes for clock skew) and ``days`` let tests
    make expired or not-yet-valid certificates.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    start = not_before or (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    name = x509.Name(attrs)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: rsa.RSAPrivateKey, passphrase: str | None = None) -> bytes:
    """PKCS#8 PEM, encrypted when a passphrase is given (unencrypted only for the sandbox
    and tests, e.g. to hand to ``openssl cms -inkey``)."""
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def load_key_pem(data: bytes, passphrase: str | None = None) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(data, passphrase.encode() if passphrase else None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def validity_problem(cert: x509.Certificate, now: dt.datetime | None = None) -> str | None:
    """Why ``cert`` is outside its validity at ``now`` (UTC), or None."""
    now = now or dt.datetime.now(dt.UTC)
    if now < cert.not_valid_before_utc:
        return f"not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M:%SZ}"
    if now > cert.not_valid_after_utc:
        return f"expired {cert.not_valid_after_utc:%Y-%m-%d %H:%M:%SZ}"
    return None


def check_profile(cert: x509.Certificate, now: dt.datetime | None = None) -> None:
    """Raise ProfileError if ``cert`` breaks the partner profile or has expired.

    A certificate not yet valid is accepted: partners announce a new one ahead of a
    rotation, and the envelope check refuses it until its start anyway.
    """
    pub = cert.public_key()
    if not isinstance(pub, rsa.RSAPublicKey):
        raise ProfileError(f"key is {type(pub).__name__.lstrip('_')}, the profile requires RSA")
    if pub.key_size < MIN_RSA_BITS:
        raise ProfileError(f"RSA key of {pub.key_size} bits, the profile requires {MIN_RSA_BITS} or more")
    problem = validity_problem(cert, now)
    if problem and problem.startswith("expired"):
        raise ProfileError(f"certificate {problem}")
    if cert.issuer != cert.subject:
        raise ProfileError("not self-signed (issuer differs from subject)")
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise ProfileError(f"self-signature does not verify ({exc or 'bad signature'})") from None
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        ku = None
    if ku is not None and not (ku.digital_signature and ku.key_encipherment):
        raise ProfileError("key usage present without both digitalSignature and keyEncipherment")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    # openssl's S/MIME purpose check wants emailProtection itself: anyExtendedKeyUsage
    # alone is refused by `openssl cms -verify`.
    if eku is not None and ExtendedKeyUsageOID.EMAIL_PROTECTION not in eku:
        raise ProfileError("extended key usage present without emailProtection")
