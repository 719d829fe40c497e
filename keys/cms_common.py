"""What sealing and opening a CMS envelope share: the OIDs, the refusal with its ACK code,
the DER of a certificate's identity, and exact reads of a file into a buffer.

Private to ``keys.envelope`` (and its halves ``keys.sealing`` and ``keys.opening``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from keys import der

OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_RSA = "1.2.840.113549.1.1.1"
OID_SHA256_RSA = "1.2.840.113549.1.1.11"
OID_RSA_PSS = "1.2.840.113549.1.1.10"
OID_MGF1 = "1.2.840.113549.1.1.8"

KeyPair = tuple[x509.Certificate, rsa.RSAPrivateKey]
#: What a file to seal or an envelope to open may come as (no copy is made of it).
Buffer = bytes | bytearray | memoryview
Certificates = Sequence[x509.Certificate]


class EnvelopeError(Exception):
    """An envelope that cannot be accepted. ``code`` is the ACK code (E01 or E02),
    ``reason`` a one-line explanation without any content of the file."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


def e01(reason: str) -> EnvelopeError:
    return EnvelopeError("E01", reason)


def e02(reason: str) -> EnvelopeError:
    return EnvelopeError("E02", reason)


def oid_der(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


def issuer_and_serial(cert: x509.Certificate) -> bytes:
    return der.wrap(der.SEQUENCE, cert.issuer.public_bytes(), core.Integer(cert.serial_number).dump())


def der_set(elements: list[bytes]) -> bytes:
    """DER SET OF: elements sorted by their encodings (X.690 11.6)."""
    return der.wrap(der.SET, *sorted(elements))


def read_into(path: Path, size: int, dest: memoryview) -> None:
    """Read exactly ``size`` bytes of ``path`` into ``dest``; refuses a file that changed size."""
    with open(path, "rb", buffering=0) as fh:
        got = 0
        while got < size:
            n = fh.readinto(dest[got:size])
            if not n:
                break
            got += n
        if got != size or fh.read(1):
            raise OSError(f"{path} changed size while being read")


def first_line(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def subject_key_id(cert: x509.Certificate) -> bytes | None:
    """The certificate's subjectKeyIdentifier, or None when it has none."""
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def whole_second(when: dt.datetime | None) -> dt.datetime:
    """The signing time: ``when`` or now, to the second (what a UTCTime holds)."""
    return (when or dt.datetime.now(dt.UTC)).replace(microsecond=0)
