"""CMS envelopes (RFC 5652) as partners/README.md "Envelope" defines them.

``seal`` makes what ``openssl cms -sign -binary -nodetach -md sha256 | openssl cms
-encrypt -binary -aes256 -outform DER`` makes: a SignedData (content embedded, SHA-256,
signed attributes contentType, signingTime and messageDigest, the signer's certificate
included), whose DER is the id-data content of an EnvelopedData (AES-256-CBC, RSA
PKCS #1 v1.5 key transport to every recipient certificate).

``open_envelope`` reverses it and checks everything before returning a byte: it raises
``EnvelopeError`` with the partner ACK code:

* ``E01`` not decryptable: empty, PEM instead of DER, malformed or truncated outer
  structure, not an EnvelopedData, not AES-256-CBC, not sealed to any of our keys, or the
  content does not decrypt (bad padding).
* ``E02`` bad or untrusted signature: once decrypted, anything wrong with the signed
  message: malformed, not exactly one signer, signer certificate missing, not pinned byte
  for byte, outside its validity, digest algorithm not SHA-256, signed attributes missing
  or contentType/messageDigest wrong or repeated, signature not verifying.

Memory: the file is never copied whole more than needed. Sealing encrypts the header,
the file and the trailer of the SignedData straight into one preallocated buffer (the
SignedData is never assembled in memory); opening decrypts into one buffer and hands back
a view of the content inside it: about twice the file's size. ``seal_file`` and
``open_file`` go further: the file is read into the buffer that will be written out and
encrypted or decrypted there, in place, so about one copy of the file is in memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Sequence
from pathlib import Path

from asn1crypto import algos, cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from keys import der
from keys.der import DerError
from keys.identity import validity_problem

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


class EnvelopeError(Exception):
    """An envelope that cannot be accepted. ``code`` is the ACK code (E01 or E02),
    ``reason`` a one-line explanation without any content of the file."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


def _e01(reason: str) -> EnvelopeError:
    return EnvelopeError("E01", reason)


def _e02(reason: str) -> EnvelopeError:
    return EnvelopeError("E02", reason)


def _oid(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


def _issuer_and_serial(cert: x509.Certificate) -> bytes:
    return der.wrap(der.SEQUENCE, cert.issuer.public_bytes(), core.Integer(cert.serial_number).dump())


def _der_set(elements: list[bytes]) -> bytes:
    """DER SET OF: elements sorted by their encodings (X.690 11.6)."""
    return der.wrap(der.SET, *sorted(elements))


# ------------------------------------------------------------------ sealing


def _signed_attrs(digest: bytes, signing_time: dt.datetime) -> bytes:
    """The DER ``SET OF Attribute`` that is signed (tag 0x31)."""
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump(),
        cms.CMSAttribute(
            {"type": "signing_time", "values": [cms.Time(name="utc_time", value=signing_time)]}
        ).dump(),
        cms.CMSAttribute({"type": "message_digest", "values": [digest]}).dump(),
    ]
    return _der_set(attrs)


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
        sig_alg = der.wrap(der.SEQUENCE, _oid(OID_RSA), b"\x05\x00")
    return der.wrap(
        der.SEQUENCE,
        core.Integer(1).dump(),
        _issuer_and_serial(cert),
        der.wrap(der.SEQUENCE, _oid(OID_SHA256)),
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
    oid_data = _oid(OID_DATA)
    encap_len = len(oid_data) + len(explicit_hdr) + len(octet_hdr) + n
    encap_hdr = der.header(der.SEQUENCE, encap_len)
    version = core.Integer(1).dump()
    digest_algs = der.wrap(der.SET, der.wrap(der.SEQUENCE, _oid(OID_SHA256)))
    sd_len = len(version) + len(digest_algs) + len(encap_hdr) + encap_len + len(certs) + len(signer_infos)
    sd_hdr = der.header(der.SEQUENCE, sd_len)
    ci_explicit_hdr = der.header(der.CTX0, len(sd_hdr) + sd_len)
    oid_sd = _oid(OID_SIGNED_DATA)
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
        _issuer_and_serial(cert),
        der.wrap(der.SEQUENCE, _oid(OID_RSA), b"\x05\x00"),
        core.OctetString(pub.encrypt(cek, padding.PKCS1v15())).dump(),
    )


def signed_data(
    data: bytes | bytearray | memoryview,
    signer_cert: x509.Certificate,
    signer_key: rsa.RSAPrivateKey,
    *,
    signing_time: dt.datetime | None = None,
    pss: bool = False,
) -> bytes:
    """DER ContentInfo(SignedData) alone (what ``openssl cms -sign`` outputs); with
    ``envelop`` the sandbox and tests build envelopes that are damaged on purpose."""
    view = memoryview(data).cast("B")
    when = (signing_time or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    prefix, suffix = _signed_data_parts(
        len(view), hashlib.sha256(view).digest(), signer_cert, signer_key, when, pss
    )
    return prefix + bytes(view) + suffix


def _enveloped_head(inner_len: int, recipient_certs: Sequence[x509.Certificate]) -> tuple[bytes, Cipher, int]:
    """Everything of the EnvelopedData before the ciphertext, the cipher, the pad length."""
    if not recipient_certs:
        raise ValueError("no recipient certificate to seal to")
    pad = 16 - inner_len % 16
    ct_len = inner_len + pad
    cek, iv = os.urandom(32), os.urandom(16)
    ris = _der_set([_recipient_info(c, cek) for c in recipient_certs])
    alg = der.wrap(der.SEQUENCE, _oid(OID_AES256_CBC), core.OctetString(iv).dump())
    ct_hdr = der.header(der.CTX0_PRIM, ct_len)
    oid_data = _oid(OID_DATA)
    eci_len = len(oid_data) + len(alg) + len(ct_hdr) + ct_len
    eci_hdr = der.header(der.SEQUENCE, eci_len)
    version = core.Integer(0).dump()
    ed_len = len(version) + len(ris) + len(eci_hdr) + eci_len
    ed_hdr = der.header(der.SEQUENCE, ed_len)
    explicit_hdr = der.header(der.CTX0, len(ed_hdr) + ed_len)
    oid_ed = _oid(OID_ENVELOPED_DATA)
    ci_hdr = der.header(der.SEQUENCE, len(oid_ed) + len(explicit_hdr) + len(ed_hdr) + ed_len)
    head = b"".join((ci_hdr, oid_ed, explicit_hdr, ed_hdr, version, ris, eci_hdr, oid_data, alg, ct_hdr))
    return head, Cipher(algorithms.AES256(cek), modes.CBC(iv)), pad


def envelop(
    pieces: Sequence[bytes | bytearray | memoryview], recipient_certs: Sequence[x509.Certificate]
) -> bytearray:
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
    enc = cipher.encryptor()
    pos = len(head)
    for piece in (*pieces, bytes((pad,)) * pad):
        pos += enc.update_into(piece, mv[pos:])
    tail = enc.finalize()
    assert not tail and pos == total, "CBC output length mismatch"
    mv.release()
    del out[total:]
    return out


def _read_into(path: Path, size: int, dest: memoryview) -> None:
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


def seal_file(
    path: Path | str,
    signer_cert: x509.Certificate,
    signer_key: rsa.RSAPrivateKey,
    recipient_certs: Sequence[x509.Certificate],
    *,
    signing_time: dt.datetime | None = None,
    pss: bool = False,
) -> bytearray:
    """``seal`` of the file at ``path``, with about one copy of it in memory: the file is
    read straight into its place in the output buffer and encrypted there, in place."""
    path = Path(path)
    n = path.stat().st_size
    when = (signing_time or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    # Lay out with a placeholder digest (same lengths), read, then sign for real.
    prefix, suffix = _signed_data_parts(n, bytes(32), signer_cert, signer_key, when, pss)
    inner_len = len(prefix) + n + len(suffix)
    head, cipher, pad = _enveloped_head(inner_len, recipient_certs)
    total = len(head) + inner_len + pad
    data_at = len(head) + len(prefix)
    out = bytearray(total + 16)
    mv = memoryview(out)
    _read_into(path, n, mv[data_at:])
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
    for piece in (suffix2, bytes((pad,)) * pad):
        pos += enc.update_into(piece, mv[pos:])
    tail = enc.finalize()
    assert not tail and pos == total, "CBC output length mismatch"
    data.release()
    rest.release()
    mv.release()
    del out[total:]
    return out


def seal_buffer(
    data: bytes | bytearray | memoryview,
    signer_cert: x509.Certificate,
    signer_key: rsa.RSAPrivateKey,
    recipient_certs: Sequence[x509.Certificate],
    *,
    signing_time: dt.datetime | None = None,
    pss: bool = False,
) -> bytearray:
    """Like ``seal`` but returns the envelope in a bytearray, saving a copy of the file."""
    if not recipient_certs:
        raise ValueError("no recipient certificate to seal to")
    view = memoryview(data).cast("B")
    when = (signing_time or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    # The SignedData is never assembled: its head, the file and its tail are encrypted
    # one after the other.
    prefix, suffix = _signed_data_parts(
        len(view), hashlib.sha256(view).digest(), signer_cert, signer_key, when, pss
    )
    return envelop((prefix, view, suffix), recipient_certs)


def seal(
    data: bytes | bytearray | memoryview,
    signer_cert: x509.Certificate,
    signer_key: rsa.RSAPrivateKey,
    recipient_certs: Sequence[x509.Certificate],
    *,
    signing_time: dt.datetime | None = None,
    pss: bool = False,
) -> bytes:
    """Sign ``data`` as ``signer_cert`` and encrypt it to every one of ``recipient_certs``;
    DER bytes of the ContentInfo(EnvelopedData). ``pss`` signs with RSASSA-PSS."""
    return bytes(
        seal_buffer(data, signer_cert, signer_key, recipient_certs, signing_time=signing_time, pss=pss)
    )


# ------------------------------------------------------------------ opening


def _decrypt(buf: memoryview, decrypt_keys: Sequence[KeyPair], work: memoryview | None = None) -> memoryview:
    """The plain content of the EnvelopedData in ``buf`` (E01 on any failure). With
    ``work`` (a writable buffer starting like ``buf`` with 16 spare bytes after it) the
    content is decrypted in place instead of into a new buffer."""
    if len(buf) == 0:
        raise _e01("empty file")
    if bytes(buf[:64]).lstrip().startswith(b"-----BEGIN"):
        raise _e01("PEM text, the envelope must be DER")
    try:
        ci = der.expect(buf, 0, der.SEQUENCE, what="ContentInfo")
        if ci.end != len(buf):
            raise DerError(f"{len(buf) - ci.end} bytes after the envelope")
        oid, body = der.children(buf, ci)
        if bytes(buf[oid.start : oid.end]) != _oid(OID_ENVELOPED_DATA):
            raise _e01("not a CMS EnvelopedData")
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
        if bytes(buf[eci[0].start : eci[0].end]) != _oid(OID_DATA):
            raise _e01("encrypted content type is not id-data")
        alg = cms.EncryptionAlgorithm.load(bytes(buf[eci[1].start : eci[1].end]))
        if alg["algorithm"].dotted != OID_AES256_CBC:
            raise _e01(f"content encryption {alg['algorithm'].native} is not AES-256-CBC")
        iv = alg["parameters"].native
        if not isinstance(iv, bytes) or len(iv) != 16:
            raise DerError("AES-256-CBC without a 16-byte IV")
        ris = cms.RecipientInfos.load(bytes(buf[ris_tlv.start : ris_tlv.end]))
        ris.native  # noqa: B018 -- parse it all now, so a bad encoding is an E01 here
    except DerError as exc:
        raise _e01(f"malformed envelope: {exc}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise _e01(f"malformed envelope: {str(exc).splitlines()[0] if str(exc) else 'bad ASN.1'}") from None

    ciphertext = buf[eci[2].vstart : eci[2].end]
    if len(ciphertext) == 0 or len(ciphertext) % 16:
        raise _e01("encrypted content length is not a multiple of the AES block")
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
        raise _e01("content does not decrypt (bad padding: wrong key or damaged file)")
    return mv[: n - pad]


def _unwrap_cek(ris: cms.RecipientInfos, decrypt_keys: Sequence[KeyPair]) -> bytes:
    for cert, key in decrypt_keys:
        ias = _issuer_and_serial(cert)
        try:
            ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        except x509.ExtensionNotFound:
            ski = None
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
                raise _e01("key transport is not RSA PKCS #1 v1.5")
            try:
                cek = key.decrypt(ktri["encrypted_key"].native, padding.PKCS1v15())
            except ValueError:
                raise _e01("content key does not decrypt with our key") from None
            if len(cek) != 32:
                raise _e01("content key is not an AES-256 key")
            return cek
    raise _e01("not sealed to any of our current or previous decryption certificates")


def _signature_params(sig_alg: algos.SignedDigestAlgorithm) -> padding.AsymmetricPadding:
    oid = sig_alg["algorithm"].dotted
    if oid in (OID_RSA, OID_SHA256_RSA):
        return padding.PKCS1v15()
    if oid != OID_RSA_PSS:
        raise _e02(f"signature algorithm {sig_alg['algorithm'].native} is not RSA")
    params = sig_alg["parameters"]
    if params["hash_algorithm"]["algorithm"].dotted != OID_SHA256:
        raise _e02("RSA-PSS hash is not SHA-256")
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].dotted != OID_MGF1 or mgf["parameters"]["algorithm"].dotted != OID_SHA256:
        raise _e02("RSA-PSS mask generation is not MGF1 with SHA-256")
    if params["trailer_field"].native not in (1, "trailer_field_bc"):
        raise _e02("RSA-PSS trailer field is not 1")
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=params["salt_length"].native)


def _single_attr(attrs: cms.CMSAttributes, name: str) -> core.Asn1Value:
    found = [a for a in attrs if a["type"].native == name]
    if len(found) != 1 or len(found[0]["values"]) != 1:
        raise _e02(f"signed attribute {name} missing or repeated")
    return found[0]["values"][0]


def _verify(inner: memoryview, trusted_signers: Sequence[x509.Certificate], now: dt.datetime) -> memoryview:
    """The content of the SignedData in ``inner`` after every check (E02 on failure)."""
    try:
        ci = der.expect(inner, 0, der.SEQUENCE, what="signed ContentInfo")
        if ci.end != len(inner):
            raise DerError("bytes after the signed message")
        oid, body = der.children(inner, ci)
        if bytes(inner[oid.start : oid.end]) != _oid(OID_SIGNED_DATA) or body.tag != der.CTX0:
            raise _e02("decrypted content is not a CMS SignedData")
        sd = der.children(inner, der.expect(inner, body.vstart, der.SEQUENCE, body.end, "SignedData"))
        digest_algs = cms.DigestAlgorithms.load(bytes(inner[sd[1].start : sd[1].end]))
        encap = der.children(inner, sd[2])
        if sd[2].tag != der.SEQUENCE or len(encap) != 2:
            raise DerError("encapsulated content missing (detached signature?)")
        if bytes(inner[encap[0].start : encap[0].end]) != _oid(OID_DATA):
            raise _e02("signed content type is not id-data")
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
            raise _e02(f"{len(infos)} signers, exactly one expected")
        si_raw = bytes(inner[infos[0].start : infos[0].end])
        si = cms.SignerInfo.load(si_raw)
        si_parts = der.children(memoryview(si_raw), der.read_tlv(memoryview(si_raw), 0))
        attrs_tlv = next((p for p in si_parts if p.tag == der.CTX0), None)
        if attrs_tlv is None:
            raise _e02("no signed attributes")
        attrs_set = bytes((der.SET,)) + si_raw[attrs_tlv.start + 1 : attrs_tlv.end]
        si.native  # noqa: B018 -- parse it all now
        digest_algs.native  # noqa: B018
        certs = [x509.load_der_x509_certificate(c) for c in certs_der]
    except DerError as exc:
        raise _e02(f"malformed signed message: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else "bad ASN.1"
        raise _e02(f"malformed signed message: {msg}") from None

    if si["digest_algorithm"]["algorithm"].dotted != OID_SHA256:
        raise _e02("digest algorithm is not SHA-256")
    sid = si["sid"]
    signer = None
    for c in certs:
        if sid.name == "issuer_and_serial_number":
            if sid.chosen.dump() == _issuer_and_serial(c):
                signer = c
        else:
            try:
                ski = c.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.chosen.native:
                signer = c
    if signer is None:
        raise _e02("signer certificate not included in the message")
    signer_der = signer.public_bytes(serialization.Encoding.DER)
    if not any(
        hmac.compare_digest(signer_der, t.public_bytes(serialization.Encoding.DER)) for t in trusted_signers
    ):
        fp = hashlib.sha256(signer_der).hexdigest()
        raise _e02(f"signer certificate sha256:{fp} is not pinned for this partner")
    problem = validity_problem(signer, now)
    if problem:
        raise _e02(f"signer certificate is {problem}")
    pub = signer.public_key()
    if not isinstance(pub, rsa.RSAPublicKey):
        raise _e02("signer key is not RSA")

    attrs = si["signed_attrs"]
    ctype = _single_attr(attrs, "content_type")
    if ctype.dotted != OID_DATA:
        raise _e02("contentType attribute is not id-data")
    md = _single_attr(attrs, "message_digest").native
    if not hmac.compare_digest(md, hashlib.sha256(content).digest()):
        raise _e02("messageDigest attribute does not match the content")
    try:
        pub.verify(
            si["signature"].native, attrs_set, _signature_params(si["signature_algorithm"]), hashes.SHA256()
        )
    except InvalidSignature:
        raise _e02("signature does not verify") from None
    return content


def open_view(
    data: bytes | bytearray | memoryview,
    decrypt_keys: Sequence[KeyPair],
    trusted_signers: Sequence[x509.Certificate],
    now: dt.datetime | None = None,
) -> memoryview:
    """Like ``open_envelope`` but returns a view into the decrypted buffer (no final copy)."""
    return _open(memoryview(data).cast("B"), decrypt_keys, trusted_signers, now)


def _open(
    buf: memoryview,
    decrypt_keys: Sequence[KeyPair],
    trusted_signers: Sequence[x509.Certificate],
    now: dt.datetime | None,
    work: memoryview | None = None,
) -> memoryview:
    # Any parsing surprise past the explicit checks is still a coded refusal, never a crash.
    try:
        inner = _decrypt(buf, decrypt_keys, work)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise _e01(f"malformed envelope: {_first_line(exc)}") from None
    try:
        return _verify(inner, trusted_signers, now or dt.datetime.now(dt.UTC))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise _e02(f"malformed signed message: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def open_file(
    path: Path | str,
    decrypt_keys: Sequence[KeyPair],
    trusted_signers: Sequence[x509.Certificate],
    now: dt.datetime | None = None,
) -> memoryview:
    """``open_envelope`` of the file at ``path``, with about one copy of it in memory: the
    content is decrypted in place in the buffer the file was read into."""
    path = Path(path)
    size = path.stat().st_size
    buf = bytearray(size + 16)
    work = memoryview(buf)
    _read_into(path, size, work)
    return _open(work[:size], decrypt_keys, trusted_signers, now, work)


def open_envelope(
    data: bytes | bytearray | memoryview,
    decrypt_keys: Sequence[KeyPair],
    trusted_signers: Sequence[x509.Certificate],
    now: dt.datetime | None = None,
) -> bytes:
    """Decrypt with one of ``decrypt_keys`` and verify against ``trusted_signers`` (pinned,
    byte for byte); the plain bytes, or ``EnvelopeError`` (E01/E02, see the module doc)."""
    return bytes(open_view(data, decrypt_keys, trusted_signers, now))
