"""`svcard sandbox serve|day|env` as an operator runs them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from demo import sandbox_cli
from gateway import context
from gateway import settings as settings_mod
from keys.identity import cert_pem
from tests.sandbox.world_kit import identity_cache, make_world, sva


@pytest.fixture
def runtime_dirs(tmp_path: Path):
    s = settings_mod.load(
        environ={}, var_dir=tmp_path / "var", keys_dir=tmp_path / "keys", key_passphrase="x" * 16
    )
    rt = context.build(s)
    context.install(rt)
    yield tmp_path
    context.install(None)
    rt.engine.dispose()


def _sva_files(tmp_path: Path) -> list[str]:
    s = sva()
    (tmp_path / "sign.pem").write_bytes(cert_pem(s.sign[0]))
    (tmp_path / "decrypt.pem").write_bytes(cert_pem(s.decrypt[0]))
    (tmp_path / "ssh.pub").write_text(s.ssh_public_line)
    return ["--sva-sign-cert", str(tmp_path / "sign.pem"), "--sva-decrypt-cert", str(tmp_path / "decrypt.pem"),
            "--sva-ssh-pub", str(tmp_path / "ssh.pub")]  # fmt: skip


def test_serve_prints_what_a_gateway_needs_then_day_runs_the_partners(runtime_dirs: Path) -> None:
    world_dir = runtime_dirs / "world"
    make_world(world_dir).close()  # partner identities from the session cache (RSA-3072 is slow)
    runner = CliRunner()
    served = runner.invoke(
        sandbox_cli.cli,
        ["serve", "--dir", str(world_dir), "--rounds", "1", "--date", "20261201", *_sva_files(runtime_dirs)],
    )
    assert served.exit_code == 0, served.output
    out = served.output
    assert "export SVCARD_PARTNER_BOCSZ_URL=sftp://bocsz@127.0.0.1:" in out
    assert "export SVCARD_PARTNER_SZHC_URL=http://127.0.0.1:" in out
    assert f"svcard keys trust-host SZT {world_dir / 'export' / 'SZT.known_hosts'}" in out
    assert f"svcard keys trust BOCINS {world_dir / 'identities' / 'BOCINS.crt.pem'}" in out
    assert "closed 20261130" in out  # a new world starts on the day before its first business date
    assert sorted(p.name for p in (world_dir / "SZT" / "outbox").iterdir()) == [
        "TRANSITACK_SZT_20261130_001.txt.p7m"
    ]

    day = runner.invoke(sandbox_cli.cli, ["day", "--dir", str(world_dir), "--date", "20261201"])
    assert day.exit_code == 0, day.output
    assert (world_dir / "BOCSZ" / "outbox" / "SWIPE_BOCSZ_20261201_001.txt.p7m").exists()
    env = runner.invoke(sandbox_cli.cli, ["env", "--dir", str(world_dir)])
    assert env.exit_code == 0 and "SVCARD_PARTNER_SZVF_URL=sftp://szvf@127.0.0.1:" in env.output


def test_serve_without_keys_names_the_fix(runtime_dirs: Path) -> None:
    shutil.copytree(identity_cache(), runtime_dirs / "world" / "identities")
    refused = CliRunner().invoke(
        sandbox_cli.cli, ["serve", "--dir", str(runtime_dirs / "world"), "--rounds", "1"]
    )
    assert refused.exit_code == 1
    assert "svcard keys init" in refused.output and "--sva-sign-cert" in refused.output
    missing = CliRunner().invoke(sandbox_cli.cli, ["day", "--dir", str(runtime_dirs / "nowhere")])
    assert missing.exit_code == 1 and "svcard sandbox serve" in missing.output
