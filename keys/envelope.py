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

from keys.cms_common import EnvelopeError, KeyPair
from keys.opening import open_envelope, open_file, open_view
from keys.sealing import envelop, seal, seal_buffer, seal_file, signed_data

__all__ = [
    "EnvelopeError",
    "KeyPair",
    "envelop",
    "open_envelope",
    "open_file",
    "open_view",
    "seal",
    "seal_buffer",
    "seal_file",
    "signed_data",
]
