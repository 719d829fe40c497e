"""A real OpenSSH ``sshd`` on a loopback port, serving ``internal-sftp``.

Used by the integration tests and ``bench/sftp.py`` to check our SFTP transport against
the server most partners actually run. Everything lives in one temporary folder: the
config, a fresh Ed25519 host key, the authorized client keys, the log and the partner
folder (``<root>/<partner>`` with ``inbox/`` and ``outbox/``). Nothing of ours is
imported: this is the partner's side of the wire.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

SSHD = "/usr/sbin/sshd"
# OpenSSH's privilege separation directory; sshd refuses to start without it.
PRIVSEP_DIR = Path("/run/sshd")


class SshdUnavailable(RuntimeError):
    """The ``sshd`` binary is missing or would not start."""


def new_ed25519_openssh() -> tuple[bytes, str]:
    """A fresh Ed25519 key: (private key in OpenSSH PEM form, public key line)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode("ascii")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OpenSshServer:
    """``sshd -D -e`` on 127.0.0.1, one account (the current user) and one partner folder.

    ``authorized_keys`` are OpenSSH public key lines (``ssh-ed25519 AAAA...``).
    ``start()`` returns once the port accepts connections; ``stop()`` kills the server
    and removes its folder (unless ``base_dir`` was given by the caller).
    """

    def __init__(
        self, authorized_keys: list[str], partner: str = "bank", base_dir: Path | None = None
    ) -> None:
        self._own_dir = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="svcard-sshd-"))
        self.partner_dir = self.base_dir / "sftp" / partner
        self.user = os.environ.get("USER") or _current_user()
        self.port = 0
        self.host_key_path = self.base_dir / "ssh_host_ed25519_key"
        self.host_public_key = ""
        self._authorized = list(authorized_keys)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path = self.base_dir / "sshd.log"

    @property
    def url(self) -> str:
        """``sftp://USER@127.0.0.1:PORT/<partner folder>`` for :class:`SftpTransport`."""
        return f"sftp://{self.user}@127.0.0.1:{self.port}{self.partner_dir}"

    def set_authorized_keys(self, keys: list[str]) -> None:
        self._authorized = list(keys)
        (self.base_dir / "authorized_keys").write_text("".join(k.strip() + "\n" for k in keys))

    def start(self, port: int | None = None, timeout: float = 10.0) -> None:
        if not os.path.exists(SSHD):
            raise SshdUnavailable(f"{SSHD} not found (install openssh-server)")
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
        for sub in ("inbox", "outbox"):
            (self.partner_dir / sub).mkdir(parents=True, exist_ok=True)
        if not self.host_key_path.exists():
            private, public = new_ed25519_openssh()
            self.host_key_path.write_bytes(private)
            self.host_key_path.chmod(0o600)
            self.host_public_key = public
        self.set_authorized_keys(self._authorized)
        self.port = port or free_port()
        config = self.base_dir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"ListenAddress 127.0.0.1:{self.port}",
                    f"HostKey {self.host_key_path}",
                    f"PidFile {self.base_dir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.base_dir / 'authorized_keys'}",
                    "Subsystem sftp internal-sftp",
                    "StrictModes no",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "UsePAM no",
                    "PermitRootLogin prohibit-password",
                    "UseDNS no",
                    "X11Forwarding no",
                    "AllowTcpForwarding no",
                    "PrintMotd no",
                    "LogLevel INFO",
                    "MaxStartups 50:30:100",
                    "",
                ]
            )
        )
        log = open(self._log_path, "ab")  # noqa: SIM115 - handed to the child, closed in stop()
        self._log = log
        self._proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise SshdUnavailable(f"sshd exited with {self._proc.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop(remove=False)
        raise SshdUnavailable(f"sshd did not accept on port {self.port}: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, remove: bool = True) -> None:
        """Kill sshd (and, with it, its session children) and remove the folder."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
            self._log.close()
        if remove and self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> OpenSshServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _current_user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name
