"""The keystore: our key pairs, partners' pinned certificates and SSH host keys.

On-disk layout under the keystore folder (README.md, "Keystore")::

    sign/CURRENT                 id of the signing pair in use (one line)
    sign/<id>.key, <id>.crt      signing pairs; <id> = first 16 hex of the certificate's SHA-256
    sign/retired/                signing pairs replaced by a rotation (kept, never used)
    decrypt/CURRENT              id of the decryption pair partners should seal to
    decrypt/<id>.key, <id>.crt   current and previous decryption pairs (all open files)
    decrypt/retired/             decryption pairs retired by `svcard keys retire` (never used)
    ssh/id_ed25519, .pub         our SSH client key (OpenSSH format, encrypted)
    partners/<ID>/certs/<sha256>.pem   pinned certificates of a partner (several in a rotation)
    partners/<ID>/known_hosts          pinned SSH host keys of an SFTP partner

Private keys are PKCS#8 (certificate pairs) or OpenSSH (SSH key) PEM, encrypted with the
keystore passphrase, mode 0600; a private key file readable by group or others is refused.
Switching the current pair is an atomic rename of ``CURRENT``, so a crash in a rotation
leaves either the old or the new pair current, never none.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from keys import envelope
from keys.identity import (
    ProfileError,
    cert_pem,
    check_profile,
    fingerprint,
    key_pem,
    load_key_pem,
    make_identity,
)
from keys.keyfiles import KeystoreError, read_private, write_atomic, write_new

# A partner's id names its folder: upper-case letters and digits, nothing a path could
# misread (partners/README.md party ids).
PARTNER_ID_RE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
ROLES = ("sign", "decrypt")
ORGANIZATION = "Shenzhen Volunteers Association"
OUR_CERT_DAYS = 730
SSH_KEY_NAME = "id_ed25519"

# keys.ssh_keys (and with it paramiko) is imported where SSH keys are used: sealing and
# opening files (every CLI start, every job) do not pay for it.
if TYPE_CHECKING:
    import paramiko

KeyPair = tuple[x509.Certificate, rsa.RSAPrivateKey]


@dataclass(frozen=True)
class Entry:
    """One line of ``svcard keys list``."""

    role: str  # e.g. "sign (current)", "decrypt (previous)", "partner BOCSZ certificate"
    path: Path
    fingerprint: str  # SHA-256: hex of the certificate DER, or OpenSSH "SHA256:..." form
    subject: str
    not_before: dt.datetime | None
    not_after: dt.datetime | None


def normalize_fingerprint(text: str) -> str:
    """Accept ``sha256:AB:CD...``, ``ABCD...`` or lower-case hex; lower-case hex."""
    t = text.strip().lower()
    t = t.removeprefix("sha256:").replace(":", "")
    if len(t) != 64 or any(c not in "0123456789abcdef" for c in t):
        raise KeystoreError(f"{text!r} is not a SHA-256 fingerprint (64 hex digits)")
    return t


class Keystore:
    """The keystore folder ``path``, with private keys encrypted under ``passphrase``."""

    def __init__(self, path: Path, passphrase: str, partners: Mapping[str, bool] | None = None) -> None:
        """``partners`` maps each partner id the keystore may hold to whether it is a file
        (SFTP) partner, whose host keys are pinned too; the gateway passes its partner
        registry. Without it any well-formed id is taken (tools, benchmarks)."""
        self.path = Path(path)
        self._passphrase = passphrase
        self._partners = dict(partners) if partners is not None else None
        self._cache: dict[Path, object] = {}

    # ------------------------------------------------------------ creation

    def init(self) -> None:
        """Create our signing, decryption and SSH keys; refuses if any already exist."""
        existing = [self.path / d for d in ("sign", "decrypt", "ssh") if (self.path / d).exists()]
        if existing:
            raise KeystoreError(f"{existing[0]} already exists: refusing to overwrite the keystore")
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        for role in ROLES:
            self._new_pair(role)
        ssh_dir = self._dir("ssh")
        key = ed25519.Ed25519PrivateKey.generate()
        priv = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.BestAvailableEncryption(self._passphrase.encode()),
        )
        pub = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        write_new(ssh_dir / SSH_KEY_NAME, priv, 0o600)
        write_new(ssh_dir / f"{SSH_KEY_NAME}.pub", pub + b" svcard-gateway@SVA\n", 0o644)
        for p in self._partners or ():
            self._dir("partners", p, "certs")

    def _dir(self, *parts: str) -> Path:
        d = self.path.joinpath(*parts)
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        return d

    def _new_pair(self, role: str) -> str:
        today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        label = "signing" if role == "sign" else "decryption"
        cert, key = make_identity(
            f"SVA envelope {label} {today}", days=OUR_CERT_DAYS, organization=ORGANIZATION
        )
        d = self._dir(role)
        kid = fingerprint(cert)[:16]
        write_new(d / f"{kid}.key", key_pem(key, self._passphrase), 0o600)
        write_new(d / f"{kid}.crt", cert_pem(cert), 0o644)
        write_atomic(d / "CURRENT", f"{kid}\n".encode(), 0o644)
        return kid

    # ------------------------------------------------------------ loading

    def _load_pair(self, d: Path, kid: str) -> KeyPair:
        key_path = d / f"{kid}.key"
        if key_path not in self._cache:
            cert = x509.load_pem_x509_certificate((d / f"{kid}.crt").read_bytes())
            try:
                key = load_key_pem(read_private(key_path), self._passphrase)
            except ValueError:
                raise KeystoreError(f"{key_path}: cannot decrypt (wrong SVCARD_KEY_PASSPHRASE?)") from None
            self._cache[key_path] = (cert, key)
        return self._cache[key_path]  # type: ignore[return-value]

    def _current_id(self, role: str) -> str:
        f = self.path / role / "CURRENT"
        if not f.exists():
            raise KeystoreError(f"{f} is missing: no {role} key (run `svcard keys init`)")
        return f.read_text().strip()

    def _ids(self, d: Path) -> list[str]:
        return sorted(p.stem for p in d.glob("*.key")) if d.is_dir() else []

    def signer(self) -> KeyPair:
        """Our current signing certificate and key."""
        return self._load_pair(self.path / "sign", self._current_id("sign"))

    def decryption_keys(self) -> list[KeyPair]:
        """Current decryption pair first, then previous ones not retired (newest first)."""
        d = self.path / "decrypt"
        current = self._current_id("decrypt")
        pairs = [self._load_pair(d, current)]
        others = [self._load_pair(d, k) for k in self._ids(d) if k != current]
        others.sort(key=lambda p: p[0].not_valid_before_utc, reverse=True)
        return pairs + others

    def certificate(self, role: str) -> x509.Certificate:
        """Our current certificate for ``role`` (``sign`` or ``decrypt``)."""
        if role not in ROLES:
            raise KeystoreError(f"role must be sign or decrypt, not {role!r}")
        kid = self._current_id(role)
        return x509.load_pem_x509_certificate((self.path / role / f"{kid}.crt").read_bytes())

    def export_cert(self, role: str) -> bytes:
        """Our current certificate for ``role`` in PEM, for partners."""
        return cert_pem(self.certificate(role))

    def ssh_client_key(self) -> paramiko.PKey:
        from keys import ssh_keys  # paramiko: see the note at the imports

        path = self.path / "ssh" / SSH_KEY_NAME
        read_private(path)  # existence and permission check, every time
        if path not in self._cache:
            self._cache[path] = ssh_keys.load_client_key(path, self._passphrase)
        return self._cache[path]  # type: ignore[return-value]

    def ssh_public_line(self) -> str:
        """Our SSH client public key, one OpenSSH ``authorized_keys`` line."""
        key = self.ssh_client_key()  # not the .pub file: proves the private key loads
        return f"{key.get_name()} {key.get_base64()} svcard-gateway@SVA"

    # ------------------------------------------------------------ partners

    def _partner(self, partner: str, sftp: bool = False) -> str:
        kind = "SFTP partner" if sftp else "partner"
        if self._partners is None:
            if not PARTNER_ID_RE.match(partner):
                raise KeystoreError(f"unknown {kind} {partner!r}: not a partner id")
            return partner
        allowed = [p for p, files in self._partners.items() if files or not sftp]
        if partner not in allowed:
            raise KeystoreError(f"unknown {kind} {partner!r}; one of {', '.join(allowed)}")
        return partner

    def _partner_ids(self) -> list[str]:
        """The partners to list: the declared ones, else every partner folder present."""
        if self._partners is not None:
            return list(self._partners)
        root = self.path / "partners"
        return (
            sorted(d.name for d in root.iterdir() if d.is_dir() and PARTNER_ID_RE.match(d.name))
            if root.is_dir()
            else []
        )

    def partner_certs(self, partner: str) -> list[x509.Certificate]:
        """Every certificate pinned for ``partner`` (oldest first)."""
        d = self.path / "partners" / self._partner(partner) / "certs"
        certs = [x509.load_pem_x509_certificate(p.read_bytes()) for p in sorted(d.glob("*.pem"))]
        return sorted(certs, key=lambda c: c.not_valid_before_utc)

    def trust(self, partner: str, data: bytes, now: dt.datetime | None = None) -> str:
        """Pin the one certificate in ``data`` (PEM or DER) for ``partner``; its fingerprint.

        Refuses a file holding a private key, several certificates, and any certificate
        breaking the partner profile (identity.check_profile) or expired.
        """
        self._partner(partner)
        if b"PRIVATE KEY" in data:
            raise KeystoreError(
                "the file contains a private key: refusing it; ask the partner for the certificate only"
            )
        try:
            certs = (
                x509.load_pem_x509_certificates(data)
                if b"-----BEGIN" in data
                else [x509.load_der_x509_certificate(data)]
            )
        except ValueError:
            raise KeystoreError("not a PEM or DER X.509 certificate") from None
        if len(certs) != 1:
            raise KeystoreError(f"{len(certs)} certificates in the file, exactly one expected")
        cert = certs[0]
        try:
            check_profile(cert, now)
        except ProfileError as exc:
            raise KeystoreError(f"certificate refused: {exc}") from None
        fp = fingerprint(cert)
        path = self._dir("partners", partner, "certs") / f"{fp}.pem"
        if not path.exists():
            write_atomic(path, cert_pem(cert), 0o644)
        return fp

    def untrust(self, partner: str, sha256_fingerprint: str) -> None:
        """Withdraw a pinned certificate of ``partner``."""
        fp = normalize_fingerprint(sha256_fingerprint)
        path = self.path / "partners" / self._partner(partner) / "certs" / f"{fp}.pem"
        if not path.exists():
            raise KeystoreError(f"no certificate {fp} pinned for {partner} (see `svcard keys list`)")
        path.unlink()

    def trust_host(self, partner: str, known_hosts_text: str) -> int:
        """Pin the host keys in ``known_hosts_text`` for an SFTP partner; how many were new.

        Every line is checked first: one bad line refuses the whole file, naming the line.
        """
        from keys import ssh_keys  # paramiko: see the note at the imports

        self._partner(partner, sftp=True)
        lines = ssh_keys.checked_lines(known_hosts_text)
        return ssh_keys.add_lines(self._dir("partners", partner) / "known_hosts", lines)

    def host_keys(self, partner: str) -> paramiko.HostKeys:
        """The pinned host keys of an SFTP partner (empty if none: every host is unknown)."""
        from keys import ssh_keys  # paramiko: see the note at the imports

        return ssh_keys.host_keys(self._known_hosts(partner))

    def host_key_list(self, partner: str, host: str | None = None, port: int = 22) -> list[paramiko.PKey]:
        """Every pinned host key of an SFTP partner for ``host`` (and ``[host]:port``), or all
        of them without ``host``. Unlike ``paramiko.HostKeys``, which keeps one key per host
        and key type, this returns both keys of a same-type host key rotation."""
        from keys import ssh_keys  # paramiko: see the note at the imports

        return ssh_keys.keys_for(self._known_hosts(partner), host, port)

    def _known_hosts(self, partner: str) -> Path:
        return self.path / "partners" / self._partner(partner, sftp=True) / "known_hosts"

    # ------------------------------------------------------------ rotation

    def rotate(self, role: str) -> str:
        """Make a new pair for ``role`` and make it current; the new id.

        After ``rotate("decrypt")`` the previous decryption keys keep opening files until
        ``retire()``; after ``rotate("sign")`` the old signing pair moves to sign/retired/.
        """
        if role not in ROLES:
            raise KeystoreError(f"role must be sign or decrypt, not {role!r}")
        old = self._current_id(role)
        kid = self._new_pair(role)
        if role == "sign":
            self._move_retired(self.path / "sign", old)
        return kid

    def retire(self) -> list[str]:
        """Retire every decryption pair but the current one; their ids."""
        d = self.path / "decrypt"
        current = self._current_id("decrypt")
        done = []
        for kid in self._ids(d):
            if kid != current:
                self._move_retired(d, kid)
                done.append(kid)
        return done

    def _move_retired(self, d: Path, kid: str) -> None:
        r = self._dir(d.name, "retired")
        for ext in (".crt", ".key"):
            src = d / f"{kid}{ext}"
            if src.exists():
                shutil.move(src, r / src.name)
            self._cache.pop(src, None)

    # ------------------------------------------------------------ envelopes

    def seal(self, data: bytes | bytearray | memoryview, to: str) -> bytes:
        """Sign with our key and encrypt to every certificate pinned for partner ``to``."""
        return bytes(self.seal_buffer(data, to))

    def seal_buffer(self, data: bytes | bytearray | memoryview, to: str) -> bytearray:
        """``seal`` without the final copy into bytes."""
        cert, key = self.signer()
        return envelope.seal_buffer(data, cert, key, self._recipients(to))

    def seal_file(self, path: Path, to: str) -> bytearray:
        """``seal`` of the file at ``path``, about one copy of it in memory (big files)."""
        cert, key = self.signer()
        return envelope.seal_file(path, cert, key, self._recipients(to))

    def _recipients(self, to: str) -> list[x509.Certificate]:
        # Every pinned certificate not expired: during a partner's rotation both its old
        # and its announced new key can open the file.
        now = dt.datetime.now(dt.UTC)
        certs = [c for c in self.partner_certs(to) if c.not_valid_after_utc >= now]
        if not certs:
            raise KeystoreError(
                f"no unexpired certificate pinned for {to}: run `svcard keys trust {to} CERT.pem`"
            )
        return certs

    def open(self, data: bytes | bytearray | memoryview, from_: str, now: dt.datetime | None = None) -> bytes:
        """Decrypt with our current or previous keys, verify as signed by ``from_``;
        raises ``envelope.EnvelopeError`` (E01/E02)."""
        return bytes(self.open_view(data, from_, now))

    def open_view(
        self, data: bytes | bytearray | memoryview, from_: str, now: dt.datetime | None = None
    ) -> memoryview:
        """``open`` without the final copy into bytes."""
        return envelope.open_view(data, self.decryption_keys(), self.partner_certs(from_), now)

    def open_file(self, path: Path, from_: str, now: dt.datetime | None = None) -> memoryview:
        """``open`` of the file at ``path``, decrypted in place: about one copy in memory."""
        return envelope.open_file(path, self.decryption_keys(), self.partner_certs(from_), now)

    # ------------------------------------------------------------ listing

    def listing(self) -> list[Entry]:
        """Every key and certificate, with role, fingerprint and validity."""
        from keys import ssh_keys  # paramiko: see the note at the imports

        out: list[Entry] = []
        for role in ROLES:
            d = self.path / role
            current = self._current_id(role) if (d / "CURRENT").exists() else None
            for sub, state in (("", None), ("retired", "retired")):
                for crt in sorted((d / sub).glob("*.crt")) if (d / sub).is_dir() else []:
                    st = state or ("current" if crt.stem == current else "previous")
                    out.append(self._cert_entry(f"{role} ({st})", crt))
        pub = self.path / "ssh" / f"{SSH_KEY_NAME}.pub"
        if pub.exists():
            kind, fp = ssh_keys.public_key_file(pub)
            out.append(Entry("ssh client key", pub, fp, kind, None, None))
        for p in self._partner_ids():
            for pem in sorted((self.path / "partners" / p / "certs").glob("*.pem")):
                out.append(self._cert_entry(f"partner {p} certificate", pem))
            kh = self.path / "partners" / p / "known_hosts"
            if kh.exists():
                for entry in ssh_keys.entries(kh):
                    out.append(
                        Entry(
                            f"partner {p} ssh host key",
                            kh,
                            ssh_keys.fingerprint(entry.key),
                            f"{','.join(entry.hostnames)} {entry.key.get_name()}",
                            None,
                            None,
                        )
                    )
        return out

    @staticmethod
    def _cert_entry(role: str, path: Path) -> Entry:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        return Entry(
            role,
            path,
            fingerprint(cert),
            cert.subject.rfc4514_string(),
            cert.not_valid_before_utc,
            cert.not_valid_after_utc,
        )
