"""`make test` sets up the servers the suite uses before it starts, or says exactly what is
missing (issue 19, finding 10)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVERS = ROOT / "scripts" / "servers.sh"


def _servers(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SERVERS)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_finding_10_make_test_sets_up_the_servers_before_the_suite() -> None:
    plan = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lines = plan.splitlines()
    servers = next(i for i, ln in enumerate(lines) if "scripts/servers.sh" in ln)
    pytest_line = next(i for i, ln in enumerate(lines) if "-m pytest" in ln)
    assert servers < pytest_line


def test_finding_10_the_servers_script_reports_each_server_it_checked() -> None:
    out = _servers(SERVERS_INSTALL="no")
    assert out.returncode == 0
    for name in ("OpenSSH server", "OpenSSH sftp client", "openssl", "PostgreSQL", "Redis"):
        assert f"servers: {name}" in out.stdout + out.stderr


def test_finding_10_a_missing_sshd_is_named_with_how_to_install_it() -> None:
    out = _servers(SSHD="/nonexistent/sshd", SERVERS_INSTALL="no")
    assert "missing openssh-server" in out.stderr
    assert "apt-get install openssh-server" in out.stderr
    assert "OpenSSH server (/nonexistent/sshd) MISSING" in out.stderr
