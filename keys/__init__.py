"""Keys and envelopes; imports nothing of the gateway (only cryptography, asn1crypto, paramiko).

- ``keys.envelope``: ``seal``/``open_envelope`` (CMS sign+encrypt, decrypt+verify,
  ``EnvelopeError`` with E01/E02), on explicit certificates and keys.
- ``keys.keystore``: ``Keystore(path, passphrase)``: our pairs, partners' pinned
  certificates and SSH host keys, rotation; ``Keystore.seal(data, to=)``/``.open(data, from_=)``.
- ``keys.identity``: ``make_identity`` (a partner-profile key pair and certificate, for the
  sandbox and tests), PEM helpers, ``check_profile``, ``fingerprint``.
- ``keys.pii``: PII field encryption and look-up hashes; ``keys.archive``: files at rest.
"""
