"""The sandbox as a whole: the five partners' identities, servers and back offices.

A world lives in one directory::

    world.json                 seed, ports of the last start (reused, so settings stay valid)
    identities/<P>.crt.pem     each partner's sandbox certificate (RSA-3072, partner profile)
    identities/<P>.key.pem     ... and its private key (unencrypted: a sandbox)
    sftp_host_key              the SFTP server's Ed25519 host key (OpenSSH PEM)
    sva/                       SVA's signing and decryption certificates, SSH public key
    export/<P>.known_hosts     the host key line for each SFTP partner, ``[127.0.0.1]:PORT``
    export/gateway.env         every ``SVCARD_PARTNER_*`` setting a gateway needs (``export`` lines)
    export/commands.sh         the ``svcard keys trust`` / ``trust-host`` commands
    BOCSZ/ SZT/ SZVF/          each SFTP partner's account root: ``inbox/`` and ``outbox/``
    bocsz.sqlite ...           each back office's own state

``World.create`` sets it up (identities are made once and cached, also across worlds with
``identity_cache``); ``start()`` serves SFTP and the two SOAP services on loopback ports;
``run_day(d)`` runs the three file partners' business date ``d``; ``endpoints()`` and
``gateway_env()`` say what a gateway must configure. Nothing of the gateway is imported.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO

import paramiko
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from keys.identity import cert_pem, fingerprint, key_pem, load_key_pem, make_identity, validity_problem
from sandbox.bank import BankOffice, BankRates
from sandbox.fund import FundOffice, FundRates
from sandbox.insurer_roster import RosterDesk
from sandbox.sftp_server import SandboxSftpServer
from sandbox.soap_sandbox import DEFAULT_USERS, SoapSandbox
from sandbox.transit import TransitOffice, TransitRates
from sandbox.wire import Party, SvaCerts

SFTP_PARTNERS = ("BOCSZ", "SZT", "SZVF")
SOAP_PARTNERS = ("SZHC", "BOCINS")
PARTNERS = SFTP_PARTNERS + SOAP_PARTNERS
HOST = "127.0.0.1"
ORGANIZATIONS = {
    "BOCSZ": "Bank of China Shenzhen Branch (sandbox)",
    "SZT": "Shenzhen Tong (sandbox)",
    "SZVF": "Shenzhen Volunteer Service Fund (sandbox)",
    "SZHC": "Shenzhen Health Commission (sandbox)",
    "BOCINS": "BOC Insurance Shenzhen (sandbox)",
}


@dataclass(frozen=True)
class Endpoint:
    """What a gateway needs to reach one sandbox partner.

    ``known_hosts_path`` is set for SFTP partners, ``username``/``password`` for SOAP ones.
    """

    partner: str
    url: str
    cert_path: Path
    known_hosts_path: Path | None = None
    username: str | None = None
    password: str | None = None


class World:
    """The sandbox partners over one directory. Build with :meth:`create` or :meth:`open`."""

    def __init__(
        self,
        root: Path,
        *,
        seed: int,
        sva: SvaCerts,
        sva_ssh_public_line: str,
        identities: dict[str, Party],
        host_key: paramiko.PKey,
        bank_rates: BankRates | None = None,
        transit_rates: TransitRates | None = None,
        fund_rates: FundRates | None = None,
    ) -> None:
        self.root = root
        self.seed = seed
        self.sva = sva
        self.sva_ssh_public_line = sva_ssh_public_line
        self.identities = identities
        self.host_key = host_key
        self.bank = BankOffice(root / "BOCSZ", identities["BOCSZ"], sva, seed=seed, rates=bank_rates)
        self.transit = TransitOffice(root / "SZT", identities["SZT"], sva, seed=seed, rates=transit_rates)
        self.transit.knows_card = self.bank.card_known  # SZT knows the cards the bank made
        self.fund = FundOffice(root / "SZVF", identities["SZVF"], sva, seed=seed, rates=fund_rates)
        self.fund.transfers = self.bank.monthly_transfer  # the fund books what the bank transferred
        self.roster_desk = RosterDesk(identities["BOCINS"], sva)
        self.sftp: SandboxSftpServer | None = None
        self.soap: SoapSandbox | None = None
        self._ports: dict[str, int] = self._load_json().get("ports", {})
        self._thread_lock = threading.RLock()
        self._lock_depth = 0
        self._lock_file: IO[str] | None = None

    # ---------------------------------------------------------------- building

    @classmethod
    def for_keystore(cls, root: str | Path, keystore, **kwargs) -> World:  # noqa: ANN001, ANN003
        """``create`` for the SVA of ``keystore`` (a ``keys.keystore.Keystore``): its
        signing and decryption certificates and its SSH public key."""
        return cls.create(
            root,
            sva_sign_cert_pem=keystore.export_cert("sign"),
            sva_decrypt_cert_pem=keystore.export_cert("decrypt"),
            sva_ssh_public_line=keystore.ssh_public_line(),
            **kwargs,
        )

    def pin_in(self, keystore) -> None:  # noqa: ANN001 - a keys.keystore.Keystore
        """Pin every partner's certificate, and each SFTP partner's host key, in the SVA's
        keystore: what an operator does once with `svcard keys trust` and `trust-host`."""
        for e in self.endpoints():
            keystore.trust(e.partner, e.cert_path.read_bytes())
            if e.known_hosts_path is not None:
                keystore.trust_host(e.partner, e.known_hosts_path.read_text())

    @classmethod
    def create(
        cls,
        root: str | Path,
        *,
        sva_sign_cert_pem: bytes,
        sva_decrypt_cert_pem: bytes,
        sva_ssh_public_line: str,
        seed: int = 0,
        bank_rates: BankRates | None = None,
        transit_rates: TransitRates | None = None,
        fund_rates: FundRates | None = None,
        identity_cache: str | Path | None = None,
    ) -> World:
        """Set up (or reuse) the world in ``root`` for the SVA whose certificates and SSH
        public key are given. Partner identities already in ``root/identities`` (or in
        ``identity_cache``, copied from there) are kept: making RSA-3072 keys is slow."""
        root = Path(root).resolve()
        (root / "sva").mkdir(parents=True, exist_ok=True)
        _keep_previous_sign(root / "sva", sva_sign_cert_pem)
        (root / "sva" / "sign.crt.pem").write_bytes(sva_sign_cert_pem)
        (root / "sva" / "decrypt.crt.pem").write_bytes(sva_decrypt_cert_pem)
        (root / "sva" / "ssh.pub").write_text(sva_ssh_public_line.strip() + "\n")
        _ensure_identities(root / "identities", Path(identity_cache) if identity_cache else None)
        key_path = root / "sftp_host_key"
        if not key_path.exists():
            pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
            key_path.write_bytes(pem)
            key_path.chmod(0o600)
        data = _read_json(root / "world.json") if (root / "world.json").exists() else {}
        data["seed"] = seed
        (root / "world.json").write_text(json.dumps(data, indent=2))
        for p in SFTP_PARTNERS:
            for sub in ("inbox", "outbox"):
                (root / p / sub).mkdir(parents=True, exist_ok=True)
        return cls.open(root, bank_rates=bank_rates, transit_rates=transit_rates, fund_rates=fund_rates)

    @classmethod
    def open(
        cls,
        root: str | Path,
        *,
        bank_rates: BankRates | None = None,
        transit_rates: TransitRates | None = None,
        fund_rates: FundRates | None = None,
    ) -> World:
        """A world :meth:`create` made before (its state and identities are kept)."""
        root = Path(root).resolve()
        if not (root / "world.json").exists():
            raise FileNotFoundError(f"{root} is not a sandbox world (no world.json): create it first")
        sva = SvaCerts(
            sign=x509.load_pem_x509_certificate((root / "sva" / "sign.crt.pem").read_bytes()),
            previous_sign=tuple(
                x509.load_pem_x509_certificate(p.read_bytes())
                for p in sorted((root / "sva" / "previous").glob("*.crt.pem"))
            ),
            decrypt=x509.load_pem_x509_certificate((root / "sva" / "decrypt.crt.pem").read_bytes()),
        )
        identities = {
            p: Party(
                p,
                x509.load_pem_x509_certificate((root / "identities" / f"{p}.crt.pem").read_bytes()),
                load_key_pem((root / "identities" / f"{p}.key.pem").read_bytes()),
            )
            for p in PARTNERS
        }
        return cls(
            root,
            seed=int(_read_json(root / "world.json").get("seed", 0)),
            sva=sva,
            sva_ssh_public_line=(root / "sva" / "ssh.pub").read_text().strip(),
            identities=identities,
            host_key=paramiko.Ed25519Key.from_private_key_file(str(root / "sftp_host_key")),
            bank_rates=bank_rates,
            transit_rates=transit_rates,
            fund_rates=fund_rates,
        )

    # ---------------------------------------------------------------- servers

    def start(self) -> World:
        """Serve SFTP and the SOAP services on loopback ports (the last ports again when
        they are free, so a gateway's settings stay valid) and write the exports."""
        client_key = _public_key(self.sva_ssh_public_line)
        self.sftp = SandboxSftpServer(
            self.root, [client_key], partners=SFTP_PARTNERS, host_key=self.host_key, host=HOST
        )
        self.soap = SoapSandbox(seed=self.seed, roster_handler=self.roster_desk, host=HOST)
        try:
            self._start_on(self.sftp, "sftp")
            self._start_soap()
        except BaseException:
            self.stop()
            raise
        self._ports = {
            "sftp": self.sftp.port,
            "health": self.soap.health_server.port,
            "insurer": self.soap.insurer_server.port,
        }
        self._save_json(ports=self._ports)
        self.export()
        return self

    def _start_on(self, server: SandboxSftpServer, name: str) -> None:
        server.port = self._ports.get(name, 0)
        try:
            server.start()
        except OSError:
            server.port = 0  # the old port is taken: a new one (settings must be re-read)
            server.start()

    def _start_soap(self) -> None:
        assert self.soap is not None
        for name, srv in (("health", self.soap.health_server), ("insurer", self.soap.insurer_server)):
            srv.port = self._ports.get(name, 0)
            try:
                srv.start()
            except OSError:
                srv.port = 0
                srv.start()

    def stop(self) -> None:
        if self.sftp is not None:
            self.sftp.stop()
            self.sftp = None
        if self.soap is not None:
            self.soap.stop()
            self.soap = None

    def close(self) -> None:
        """Stop the servers and close the back offices' state files."""
        self.stop()
        for office in (self.bank, self.transit, self.fund):
            office.close()

    def __enter__(self) -> World:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- the day

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time works on the world (``serve`` and ``sandbox day`` may
        run side by side); reentrant within the process."""
        with self._thread_lock:
            if self._lock_depth == 0:
                self._lock_file = open(self.root / ".lock", "w")  # noqa: SIM115 - closed below
                fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0 and self._lock_file is not None:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                    self._lock_file.close()
                    self._lock_file = None

    def run_day(self, day: date) -> None:
        """Business date ``day`` for the three file partners: the bank first (its SWIPE and
        transfers feed the fund; its cards are what Shenzhen Tong knows)."""
        with self._locked():
            self.bank.run_day(day)
            self.transit.run_day(day)
            self.fund.run_day(day)

    def intake(self, day: date) -> None:
        """Read and acknowledge what SVA sent so far, without closing the day."""
        with self._locked():
            self.bank.intake(day)
            self.transit.intake(day)
            self.fund.intake(day)

    def catch_up(self, today: date) -> list[date]:
        """Close every business date before ``today`` not yet closed (from the day after
        the last one closed, or yesterday for a new world), then take in today's files.
        What ``svcard sandbox serve`` does on each tick; the dates closed."""
        with self._locked():
            last = min(
                (o.last_closed() for o in (self.bank, self.transit, self.fund) if o.last_closed()),
                default=today - timedelta(days=2),
            )
            closed = []
            d = last + timedelta(days=1)
            while d < today:
                self.run_day(d)
                closed.append(d)
                d += timedelta(days=1)
            self.intake(today)
            return closed

    # ---------------------------------------------------------------- for the gateway

    def cert_path(self, partner: str) -> Path:
        return self.root / "identities" / f"{partner}.crt.pem"

    def endpoints(self) -> list[Endpoint]:
        """Each partner's URL, certificate file, host key file (SFTP) or credentials (SOAP).
        The ports are those of the running servers (or of the last start)."""
        out = []
        port = self.sftp.port if self.sftp else self._ports.get("sftp", 0)
        for p in SFTP_PARTNERS:
            out.append(
                Endpoint(
                    p,
                    f"sftp://{p.lower()}@{HOST}:{port}",
                    self.cert_path(p),
                    self.root / "export" / f"{p}.known_hosts",
                )
            )
        health = (
            self.soap.health_url
            if self.soap
            else f"http://{HOST}:{self._ports.get('health', 0)}/soap/healthcard"
        )
        insurer = (
            self.soap.insurer_url
            if self.soap
            else f"http://{HOST}:{self._ports.get('insurer', 0)}/soap/insurer"
        )
        for p, url in (("SZHC", health), ("BOCINS", insurer)):
            user, password = DEFAULT_USERS[p]
            out.append(Endpoint(p, url, self.cert_path(p), None, user, password))
        return out

    def gateway_env(self) -> dict[str, str]:
        """The ``SVCARD_PARTNER_*`` settings pointing a gateway at this world."""
        env: dict[str, str] = {}
        for e in self.endpoints():
            env[f"SVCARD_PARTNER_{e.partner}_URL"] = e.url
            if e.username is not None:
                env[f"SVCARD_PARTNER_{e.partner}_USERNAME"] = e.username
                env[f"SVCARD_PARTNER_{e.partner}_PASSWORD"] = e.password or ""
        return env

    def trust_commands(self) -> list[str]:
        """The ``svcard keys trust`` / ``trust-host`` commands a gateway runs once."""
        cmds = []
        for e in self.endpoints():
            cmds.append(f"svcard keys trust {e.partner} {e.cert_path}")
            if e.known_hosts_path is not None:
                cmds.append(f"svcard keys trust-host {e.partner} {e.known_hosts_path}")
        return cmds

    def export(self) -> None:
        """Write ``export/``: known_hosts per SFTP partner, gateway.env, commands.sh."""
        out = self.root / "export"
        out.mkdir(exist_ok=True)
        port = self.sftp.port if self.sftp else self._ports.get("sftp", 0)
        line = f"[{HOST}]:{port} {self.host_key.get_name()} {self.host_key.get_base64()}\n"
        for p in SFTP_PARTNERS:
            (out / f"{p}.known_hosts").write_text(line)
        # `. export/gateway.env` in a shell, as `svcard sandbox serve` prints it
        (out / "gateway.env").write_text("".join(f"export {k}={v}\n" for k, v in self.gateway_env().items()))
        (out / "commands.sh").write_text("".join(c + "\n" for c in self.trust_commands()))

    # ---------------------------------------------------------------- world.json

    def _load_json(self) -> dict:
        path = self.root / "world.json"
        return _read_json(path) if path.exists() else {}

    def _save_json(self, **values: object) -> None:
        data = self._load_json()
        data.update(values)
        (self.root / "world.json").write_text(json.dumps(data, indent=2))


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def _ensure_identities(folder: Path, cache: Path | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for p in PARTNERS:
        crt, key = folder / f"{p}.crt.pem", folder / f"{p}.key.pem"
        if crt.exists() and key.exists():
            continue
        if cache is not None and (cache / f"{p}.crt.pem").exists() and (cache / f"{p}.key.pem").exists():
            shutil.copyfile(cache / f"{p}.crt.pem", crt)
            shutil.copyfile(cache / f"{p}.key.pem", key)
        else:
            cert, private = make_identity(f"{p} sandbox", organization=ORGANIZATIONS[p])
            crt.write_bytes(cert_pem(cert))
            key.write_bytes(key_pem(private))
            if cache is not None:
                cache.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(crt, cache / f"{p}.crt.pem")
                shutil.copyfile(key, cache / f"{p}.key.pem")
        key.chmod(0o600)


def _keep_previous_sign(folder: Path, new_pem: bytes) -> None:
    """When SVA's signing certificate changes, keep the old one (still accepted until it
    expires, as partners/README.md says of a rotation) in ``sva/previous/``; drop expired ones."""
    current = folder / "sign.crt.pem"
    previous = folder / "previous"
    if current.exists() and current.read_bytes() != new_pem:
        old = x509.load_pem_x509_certificate(current.read_bytes())
        previous.mkdir(exist_ok=True)
        (previous / f"{fingerprint(old)}.crt.pem").write_bytes(current.read_bytes())
    for p in previous.glob("*.crt.pem") if previous.exists() else ():
        cert = x509.load_pem_x509_certificate(p.read_bytes())
        if validity_problem(cert) and validity_problem(cert).startswith("expired"):
            p.unlink()


def _public_key(line: str) -> paramiko.PKey:
    """A paramiko public key from an OpenSSH ``authorized_keys`` line."""
    parts = line.split()
    if len(parts) < 2:
        raise ValueError("not an OpenSSH public key line")
    return paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1]))
