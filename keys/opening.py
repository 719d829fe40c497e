"""Opening: decrypt the EnvelopedData, then verify the SignedData inside it, every check
before a byte is returned (the refusals and their ACK codes are in ``keys.envelope``).

Opening decrypts into one buffer and hands back a view of the content inside it;
``open_file`` decrypts in place in the buffer the file was read into.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from pathlib import Path

from asn1crypto import algos, cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from keys import der
from keys.cms_common import (
    OID_AES256_CBC,
    OID_DATA,
    OID_ENVELOPED_DATA,
    OID_MGF1,
    OID_RSA,
    OID_RSA_PSS,
    OID_SHA256,
    OID_SHA256_RSA,
    OID_SIGNED_DATA,
    Buffer,
    Certificates,
    KeyPair,
    e01,
    e02,
    first_line,
    issuer_and_serial,
    oid_der,
    read_into,
    subject_key_id,
)
from keys.der import DerError
from keys.identity import validity_problem


def _decrypt(buf: memoryview, decrypt_keys: Sequence[KeyPair], work: memoryview | None = None) -> memoryview:
    """The plain content of the EnvelopedData in ``buf`` (E01 on any failure). With
    ``work`` (a writable buffer starting like ``buf`` with 16 spare bytes after it) the
    content is decrypted in place instead of into a new buffer."""
    if len(buf) == 0:
        raise e01("empty file")
    if bytes(buf[:64]).lstrip().startswith(b"-----BEGIN"):
        raise e01("PEM text, the envelope must be DER")
    try:
        ci = der.expect(buf, 0, der.SEQUENCE, what="ContentInfo")
        if ci.end != len(buf):
            raise DerError(f"{len(buf) - ci.end} bytes after the envelope")
        oid, body = der.children(buf, ci)
        if bytes(buf[oid.start : oid.end]) != oid_der(OID_ENVELOPED_DATA):
            raise e01("not a CMS EnvelopedData")
        if body.tag != der.CTX0:
            raise DerError("ContentInfo content is not [0]")
        ed = der.expect(buf, body.vstart, der.SEQUENCE, body.end, "EnvelopedData")
        parts = der.children(buf, ed)
        ris_tlv = next((p for p in parts if p.tag == der.SET), None)
        eci_tlv = next((p for p in parts if p.tag == der.SEQUENCE), None)
        if ris_tlv is None or eci_tlv is None:
            raise DerError("EnvelopedData without recipients or encrypted content")
        eci = der.children(buf, eci_tlv)
        if len(eci) != 3 or eci[2].tag != der.CTX0_PRIM:
            raise DerError("encrypted content missing or not a primitive [0]")
        if bytes(buf[eci[0].start : eci[0].end]) != oid_der(OID_DATA):
            raise e01("encrypted content type is not id-data")
        alg = cms.EncryptionAlgorithm.load(bytes(buf[eci[1].start : eci[1].end]))
        if alg["algorithm"].dotted != OID_AES256_CBC:
            raise e01(f"content encryption {alg['algorithm'].native} is not AES-256-CBC")
        iv = alg["parameters"].native
        if not isinstance(iv, bytes) or len(iv) != 16:
            raise DerError("AES-256-CBC without a 16-byte IV")
        ris = cms.RecipientInfos.load(bytes(buf[ris_tlv.start : ris_tlv.end]))
        ris.native  # noqa: B018 -- parse it all now, so a bad encoding is an E01 here
    except DerError as exc:
        raise e01(f"malformed envelope: {exc}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise e01(f"malformed envelope: {str(exc).splitlines()[0] if str(exc) else 'bad ASN.1'}") from None

    ciphertext = buf[eci[2].vstart : eci[2].end]
    if len(ciphertext) == 0 or len(ciphertext) % 16:
        raise e01("encrypted content length is not a multiple of the AES block")
    cek = _unwrap_cek(ris, decrypt_keys)
    if work is not None:
        start = eci[2].vstart
        src, mv = work[start : start + len(ciphertext)], work[start : start + len(ciphertext) + 16]
    else:
        src, mv = ciphertext, memoryview(bytearray(len(ciphertext) + 16))
    dec = Cipher(algorithms.AES256(cek), modes.CBC(iv)).decryptor()
    n = dec.update_into(src, mv)
    dec.finalize()
    pad = mv[n - 1] if n else 0
    if not 1 <= pad <= 16 or mv[n - pad : n] != bytes((pad,)) * pad:
        raise e01("content does not decrypt (bad padding: wrong key or damaged file)")
    return mv[: n - pad]


def _unwrap_cek(ris: cms.RecipientInfos, decrypt_keys: Sequence[KeyPair]) -> bytes:
    for cert, key in decrypt_keys:
        ias = issuer_and_serial(cert)
        ski = subject_key_id(cert)
        for ri in ris:
            if ri.name != "ktri":
                continue
            ktri = ri.chosen
            rid = ktri["rid"]
            if rid.name == "issuer_and_serial_number":
                match = rid.chosen.dump() == ias
            else:
                match = ski is not None and rid.chosen.native == ski
            if not match:
                continue
            if ktri["key_encryption_algorithm"]["algorithm"].dotted != OID_RSA:
                raise e01("key transport is not RSA PKCS #1 v1.5")
            try:
                cek = key.decrypt(ktri["encrypted_key"].native, padding.PKCS1v15())
            except ValueError:
                raise e01("content key does not decrypt with our key") from None
            if len(cek) != 32:
                raise e01("content key is not an AES-256 key")
            return cek
    raise e01("not sealed to any of our current or previous decryption certificates")


def _signature_params(sig_alg: algos.SignedDigestAlgorithm) -> padding.AsymmetricPadding:
    oid = sig_alg["algorithm"].dotted
    if oid in (OID_RSA, OID_SHA256_RSA):
        return padding.PKCS1v15()
    if oid != OID_RSA_PSS:
        raise e02(f"signature algorithm {sig_alg['algorithm'].native} is not RSA")
    params = sig_alg["parameters"]
    if params["hash_algorithm"]["algorithm"].dotted != OID_SHA256:
        raise e02("RSA-PSS hash is not SHA-256")
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].dotted != OID_MGF1 or mgf["parameters"]["algorithm"].dotted != OID_SHA256:
        raise e02("RSA-PSS mask generation is not MGF1 with SHA-256")
    if params["trailer_field"].native not in (1, "trailer_field_bc"):
        raise e02("RSA-PSS trailer field is not 1")
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=params["salt_length"].native)


def _single_attr(attrs: cms.CMSAttributes, name: str) -> core.Asn1Value:
    found = [a for a in attrs if a["type"].native == name]
    if len(found) != 1 or len(found[0]["values"]) != 1:
        raise e02(f"signed attribute {name} missing or repeated")
    return found[0]["values"][0]


def _verify(inner: memoryview, trusted_signers: Certificates, now: dt.datetime) -> memoryview:
    """The content of the SignedData in ``inner`` after every check (E02 on failure)."""
    try:
        ci = der.expect(inner, 0, der.SEQUENCE, what="signed ContentInfo")
        if ci.end != len(inner):
            raise DerError("bytes after the signed message")
        oid, body = der.children(inner, ci)
        if bytes(inner[oid.start : oid.end]) != oid_der(OID_SIGNED_DATA) or body.tag != der.CTX0:
            raise e02("decrypted content is not a CMS SignedData")
        sd = der.children(inner, der.expect(inner, body.vstart, der.SEQUENCE, body.end, "SignedData"))
        digest_algs = cms.DigestAlgorithms.load(bytes(inner[sd[1].start : sd[1].end]))
        encap = der.children(inner, sd[2])
        if sd[2].tag != der.SEQUENCE or len(encap) != 2:
            raise DerError("encapsulated content missing (detached signature?)")
        if bytes(inner[encap[0].start : encap[0].end]) != oid_der(OID_DATA):
            raise e02("signed content type is not id-data")
        octets = der.expect(inner, encap[1].vstart, der.OCTET_STRING, encap[1].end, "content")
        content = inner[octets.vstart : octets.end]
        certs_der: list[bytes] = []
        signer_infos_tlv = sd[-1]
        for part in sd[3:-1]:
            if part.tag == der.CTX0:
                certs_der = [
                    bytes(inner[c.start : c.end]) for c in der.children(inner, part) if c.tag == der.SEQUENCE
                ]
        if signer_infos_tlv.tag != der.SET:
            raise DerError("signerInfos missing")
        infos = der.children(inner, signer_infos_tlv)
        if len(infos) != 1:
            raise e02(f"{len(infos)} signers, exactly one expected")
        si_raw = bytes(inner[infos[0].start : infos[0].end])
        si = cms.SignerInfo.load(si_raw)
        si_parts = der.children(memoryview(si_raw), der.read_tlv(memoryview(si_raw), 0))
        attrs_tlv = next((p for p in si_parts if p.tag == der.CTX0), None)
        if attrs_tlv is None:
            raise e02("no signed attributes")
        attrs_set = bytes((der.SET,)) + si_raw[attrs_tlv.start + 1 : attrs_tlv.end]
        si.native  # noqa: B018 -- parse it all now
        digest_algs.native  # noqa: B018
        certs = [x509.load_der_x509_certificate(c) for c in certs_der]
    except DerError as exc:
        raise e02(f"malformed signed message: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else "bad ASN.1"
        raise e02(f"malformed signed message: {msg}") from None

    if si["digest_algorithm"]["algorithm"].dotted != OID_SHA256:
        raise e02("digest algorithm is not SHA-256")
    sid = si["sid"]
    signer = None
    for c in certs:
        if sid.name == "issuer_and_serial_number":
            if sid.chosen.dump() == issuer_and_serial(c):
                signer = c
        else:
            ski = subject_key_id(c)
            if ski is not None and ski == sid.chosen.native:
                signer = c
    if signer is None:
        raise e02("signer certificate not included in the message")
    signer_der = signer.public_bytes(serialization.Encoding.DER)
    if not any(
        hmac.compare_digest(signer_der, t.public_bytes(serialization.Encoding.DER)) for t in trusted_signers
    ):
        fp = hashlib.sha256(signer_der).hexdigest()
        raise e02(f"signer certificate sha256:{fp} is not pinned for this partner")
    problem = validity_problem(signer, now)
    if problem:
        raise e02(f"signer certificate is {problem}")
    pub = signer.public_key()
    if not isinstance(pub, rsa.RSAPublicKey):
        raise e02("signer key is not RSA")

    attrs = si["signed_attrs"]
    ctype = _single_attr(attrs, "content_type")
    if ctype.dotted != OID_DATA:
        raise e02("contentType attribute is not id-data")
    md = _single_attr(attrs, "message_digest").native
    if not hmac.compare_digest(md, hashlib.sha256(content).digest()):
        raise e02("messageDigest attribute does not match the content")
    try:
        pub.verify(
            si["signature"].native, attrs_set, _signature_params(si["signature_algorithm"]), hashes.SHA256()
        )
    except InvalidSignature:
        raise e02("signature does not verify") from None
    return content


def open_view(
    data: Buffer,
    decrypt_keys: Sequence[KeyPair],
    trusted_signers: Certificates,
    now: dt.datetime | None = None,
) -> memoryview:
    """Like ``open_envelope`` but returns a view into the decrypted buffer (no final copy)."""
    return _open(memoryview(data).cast("B"), decrypt_keys, trusted_signers, now)


def _open(
    buf: memoryview,
    decrypt_keys: Sequence[KeyPair],
    trusted_signers: Certificates,
    now: dt.datetime | None,
    work: memoryview | None = None,
) -> memoryview:
    # Any parsing surprise past the explicit checks is still a coded refusal, never a crash.
    try:
        inner = _decrypt(buf, decrypt_keys, work)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise e01(f"malformed envelope: {first_line(exc)}") from None
    try:
        return _verify(inner, trusted_signers, now or dt.datetime.now(dt.UTC))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise e02(f"malformed signed message: {first_line(exc)}") from None


def open_file(
    path: Path | str,
    decrypt_keys: Sequence[KeyPair],
    trusted_signers: Certificates,
    now: dt.datetime | None = None,
) -> memoryview:
    """``open_envelope`` of the file at ``path``, with about one copy of it in memory: the
    content is decrypted in place in the buffer the file was read into."""
    path = Path(path)
    size = path.stat().st_size
    buf = bytearray(size + 16)
    work = memoryview(buf)
    read_into(path, size, work)
    return _open(work[:size], decrypt_keys, trusted_signers, now, work)


def open_envelope(
    data: Buffer,
    decrypt_keys: Sequence[KeyPair],
    trusted_signers: Certificates,
    now: dt.datetime | None = None,
) -> bytes:
    """Decrypt with one of ``decrypt_keys`` and verify against ``trusted_signers`` (pinned,
    byte for byte); the plain bytes, or ``EnvelopeError`` (E01/E02, see the module doc)."""
    return bytes(open_view(data, decrypt_keys, trusted_signers, now))
