"""Sealing: the SignedData inside an EnvelopedData, as ``keys.envelope`` describes it.

The SignedData is never assembled in memory: its head, the file and its tail are
encrypted one after the other into one preallocated buffer; ``seal_file`` reads the file
into that buffer and encrypts it there, in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from asn1crypto import algos, cms, core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from keys import der
from keys.cms_common import (
    OID_AES256_CBC,
    OID_DATA,
    OID_ENVELOPED_DATA,
    OID_RSA,
    OID_SHA256,
    OID_SIGNED_DATA,
    Buffer,
    Certificates,
    der_set,
    issuer_and_serial,
    oid_der,
    read_into,
    whole_second,
)


def _signed_attrs(digest: bytes, signing_time: dt.datetime) -> bytes:
    """The DER ``SET OF Attribute`` that is signed (tag 0x31)."""
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump(),
        cms.CMSAttribute(
            {"type": "signing_time", "values": [cms.Time(name="utc_time", value=signing_time)]}
        ).dump(),
        cms.CMSAttribute({"type": "message_digest", "values": [digest]}).dump(),
    ]
    return der_set(attrs)


def _signer_info(cert: x509.Certificate, key: rsa.RSAPrivateKey, attrs_set: bytes, pss: bool) -> bytes:
    if pss:
        signature = key.sign(
            attrs_set, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()
        )
        sig_alg = algos.SignedDigestAlgorithm(
            {
                "algorithm": "rsassa_pss",
                "parameters": algos.RSASSAPSSParams(
                    {
                        "hash_algorithm": {"algorithm": "sha256"},
                        "mask_gen_algorithm": {
                            "algorithm": "mgf1",
                            "parameters": {"algorithm": "sha256"},
                        },
                        "salt_length": 32,
                    }
                ),
            }
        ).dump()
    else:
        signature = key.sign(attrs_set, padding.PKCS1v15(), hashes.SHA256())
        # What openssl writes for PKCS #1 v1.5: rsaEncryption with NULL parameters.
        sig_alg = der.wrap(der.SEQUENCE, oid_der(OID_RSA), b"\x05\x00")
    return der.wrap(
        der.SEQUENCE,
        core.Integer(1).dump(),
        issuer_and_serial(cert),
        der.wrap(der.SEQUENCE, oid_der(OID_SHA256)),
        bytes((der.CTX0,)) + attrs_set[1:],  # [0] IMPLICIT: same bytes, context tag
        sig_alg,
        core.OctetString(signature).dump(),
    )


def _signed_data_parts(
    n: int,
    digest: bytes,
    cert: x509.Certificate,
    key: rsa.RSAPrivateKey,
    signing_time: dt.datetime,
    pss: bool,
) -> tuple[bytes, bytes]:
    """(prefix, suffix) such that prefix + data + suffix is the DER ContentInfo(SignedData)
    of ``n`` bytes of data whose SHA-256 is ``digest``. Their lengths do not depend on the
    digest (a signature is always the key's size)."""
    attrs_set = _signed_attrs(digest, signing_time)
    signer_infos = der.wrap(der.SET, _signer_info(cert, key, attrs_set, pss))
    certs = der.wrap(der.CTX0, cert.public_bytes(serialization.Encoding.DER))
    octet_hdr = der.header(der.OCTET_STRING, n)
    explicit_hdr = der.header(der.CTX0, len(octet_hdr) + n)
    oid_data = oid_der(OID_DATA)
    encap_len = len(oid_data) + len(explicit_hdr) + len(octet_hdr) + n
    encap_hdr = der.header(der.SEQUENCE, encap_len)
    version = core.Integer(1).dump()
    digest_algs = der.wrap(der.SET, der.wrap(der.SEQUENCE, oid_der(OID_SHA256)))
    sd_len = len(version) + len(digest_algs) + len(encap_hdr) + encap_len + len(certs) + len(signer_infos)
    sd_hdr = der.header(der.SEQUENCE, sd_len)
    ci_explicit_hdr = der.header(der.CTX0, len(sd_hdr) + sd_len)
    oid_sd = oid_der(OID_SIGNED_DATA)
    ci_hdr = der.header(der.SEQUENCE, len(oid_sd) + len(ci_explicit_hdr) + len(sd_hdr) + sd_len)
    prefix = b"".join(
        (
            ci_hdr,
            oid_sd,
            ci_explicit_hdr,
            sd_hdr,
            version,
            digest_algs,
            encap_hdr,
            oid_data,
            explicit_hdr,
            octet_hdr,
        )
    )
    return prefix, certs + signer_infos


def _recipient_info(cert: x509.Certificate, cek: bytes) -> bytes:
    pub = cert.public_key()
    if not isinstance(pub, rsa.RSAPublicKey):
        raise ValueError(f"recipient certificate {cert.subject.rfc4514_string()} is not RSA")
    return der.wrap(
        der.SEQUENCE,
        core.Integer(0).dump(),
        issuer_and_serial(cert),
        der.wrap(der.SEQUENCE, oid_der(OID_RSA), b"\x05\x00"),
        core.OctetString(pub.encrypt(cek, padding.PKCS1v15())).dump(),
    )


def signed_data(
    data: Buffer,
    signer_cert: x509.Certificate,
    signer_key: rsa.RSAPrivateKey,
    *,
    signing_time: dt.datetime | None = None,
    pss: bool = False,
) -> bytes:
    """DER ContentInfo(SignedData) alone (what ``openssl cms -sign`` outputs); with
    ``envelop`` the sandbox and tests build envelopes that are damaged on purpose."""
    view = memoryview(data).cast("B")
    prefix, suffix = _signed_parts_of(view, signer_cert, signer_key, signing_time, pss)
    return prefix + bytes(view) + suffix


def _signed_parts_of(
    view: memoryview,
    cert: x509.Certificate,
    key: rsa.RSAPrivateKey,
    signing_time: dt.datetime | None,
    pss: bool,
) -> tuple[bytes, bytes]:
    """``_signed_data_parts`` of the data in ``view``, signed at ``signing_time`` or now."""
    return _signed_data_parts(
        len(view), hashlib.sha256(view).digest(), cert, key, whole_second(signing_time), pss
    )


def _enveloped_head(inner_len: int, recipient_certs: Certificates) -> tuple[bytes, Cipher, int]:
    """Everything of the EnvelopedData before the ciphertext, the cipher, the pad length."""
    if not recipient_certs:
        raise ValueError("no recipient certificate to seal to")
    pad = 16 - inner_len % 16
    ct_len = inner_len + pad
    cek, iv = os.urandom(32), os.urandom(16)
    ris = der_set([_recipient_info(c, cek) for c in recipient_certs])
    alg = der.wrap(der.SEQUENCE, oid_der(OID_AES256_CBC), core.OctetString(iv).dump())
    ct_hdr = der.header(der.CTX0_PRIM, ct_len)
    oid_data = oid_der(OID_DATA)
    eci_len = len(oid_data) + len(alg) + len(ct_hdr) + ct_len
    eci_hdr = der.header(der.SEQUENCE, eci_len)
    version = core.Integer(0).dump()
    ed_len = len(version) + len(ris) + len(eci_hdr) + eci_len
    ed_hdr = der.header(der.SEQUENCE, ed_len)
    explicit_hdr = der.header(der.CTX0, len(ed_hdr) + ed_len)
    oid_ed = oid_der(OID_ENVELOPED_DATA)
    ci_hdr = der.header(der.SEQUENCE, len(oid_ed) + len(explicit_hdr) + len(ed_hdr) + ed_len)
    head = b"".join((ci_hdr, oid_ed, explicit_hdr, ed_hdr, version, ris, eci_hdr, oid_data, alg, ct_hdr))
    return head, Cipher(algorithms.AES256(cek), modes.CBC(iv)), pad


def envelop(pieces: Sequence[Buffer], recipient_certs: Certificates) -> bytearray:
    """DER ContentInfo(EnvelopedData) of the concatenated ``pieces`` as id-data content,
    AES-256-CBC, key transported to every one of ``recipient_certs`` (what ``openssl cms
    -encrypt`` outputs). The pieces are encrypted straight into the output buffer."""
    inner_len = sum(len(p) for p in pieces)
    head, cipher, pad = _enveloped_head(inner_len, recipient_certs)
    total = len(head) + inner_len + pad
    # 16 spare bytes: update_into wants room for a block more than it will write.
    out = bytearray(total + 16)
    out[: len(head)] = head
    mv = memoryview(out)
    _encrypt_to_end(cipher.encryptor(), mv, len(head), (*pieces, bytes((pad,)) * pad), total)
    mv.release()
    del out[total:]
    return out


def _encrypt_to_end(
    enc: CipherContext, mv: memoryview, pos: int, pieces: Iterable[bytes | memoryview], total: int
) -> None:
    """Encrypt the last ``pieces`` into ``mv`` from ``pos``: the output must end at ``total``."""
    for piece in pieces:
        pos += enc.update_into(piece, mv[pos:])
    tail = enc.finalize()
    assert not tail and pos == total, "CBC output length mismatch"


def seal_file(
    path: Path | str,
    signer_cert: x509.Certificate,
    signer_key: rsa.RSAPrivateKey,
    recipient_certs: Certificates,
    *,
    signing_time: dt.datetime | None = None,
    pss: bool = False,
) -> bytearray:
    """``seal`` of the file at ``path``, with about one copy of it in memory: the file is
    read straight into its place in the output buffer and encrypted there, in place."""
    path = Path(path)
    n = path.stat().st_size
    when = whole_second(signing_time)
    # Lay out with a placeholder digest (same lengths), read, then sign for real.
    prefix, suffix = _signed_data_parts(n, bytes(32), signer_cert, signer_key, when, pss)
    inner_len = len(prefix) + n + len(suffix)
    head, cipher, pad = _enveloped_head(inner_len, recipient_certs)
    total = len(head) + inner_len + pad
    data_at = len(head) + len(prefix)
    out = bytearray(total + 16)
    mv = memoryview(out)
    read_into(path, n, mv[data_at:])
    data = mv[data_at : data_at + n]
    prefix, suffix2 = _signed_data_parts(n, hashlib.sha256(data).digest(), signer_cert, signer_key, when, pss)
    assert len(suffix2) == len(suffix), "SignerInfo length changed"
    mv[: len(head)] = head
    enc = cipher.encryptor()
    # prefix + the first k data bytes fill whole blocks, so the rest of the data is then
    # encrypted exactly in place (OpenSSL allows in == out, not partial overlap).
    k = min((16 - len(prefix) % 16) % 16, n)
    pos = len(head) + enc.update_into(prefix + bytes(data[:k]), mv[len(head) :])
    rest = mv[data_at + k : data_at + n]
    if len(rest):
        assert pos == data_at + k, "CBC alignment"
        pos += enc.update_into(rest, mv[pos : pos + len(rest) + 16])
    _encrypt_to_end(enc, mv, pos, (suffix2, bytes((pad,)) * pad), total)
    data.release()
    rest.release()
    mv.release()
    del out[total:]
    return out


def seal_buffer(
    data: Buffer,
    signer_cert: x509.Certificate,
    signer_key: rsa.RSAPrivateKey,
    recipient_certs: Certificates,
    *,
    signing_time: dt.datetime | None = None,
    pss: bool = False,
) -> bytearray:
    """Like ``seal`` but returns the envelope in a bytearray, saving a copy of the file."""
    if not recipient_certs:
        raise ValueError("no recipient certificate to seal to")
    view = memoryview(data).cast("B")
    # The SignedData is never assembled: its head, the file and its tail are encrypted
    # one after the other.
    prefix, suffix = _signed_parts_of(view, signer_cert, signer_key, signing_time, pss)
    return envelop((prefix, view, suffix), recipient_certs)


def seal(
    data: Buffer,
    signer_cert: x509.Certificate,
    signer_key: rsa.RSAPrivateKey,
    recipient_certs: Certificates,
    *,
    signing_time: dt.datetime | None = None,
    pss: bool = False,
) -> bytes:
    """Sign ``data`` as ``signer_cert`` and encrypt it to every one of ``recipient_certs``;
    DER bytes of the ContentInfo(EnvelopedData). ``pss`` signs with RSASSA-PSS."""
    return bytes(
        seal_buffer(data, signer_cert, signer_key, recipient_certs, signing_time=signing_time, pss=pss)
    )
