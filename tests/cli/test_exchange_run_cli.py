"""`svcard exchange run` when the gateway is not set up to reach the partner: a message
that says what to do, not an exception."""

from __future__ import annotations

from click.testing import CliRunner

from gateway import context, migrate
from gateway import settings as settings_mod
from gateway.cli import svcard
from keys.identity import cert_pem, make_identity


def _install(tmp_path, environ: dict[str, str]):
    s = settings_mod.load(
        environ=environ,
        var_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'svcard.db'}",
        keys_dir=tmp_path / "var" / "keys",
        spool_dir=tmp_path / "var" / "spool",
    )
    rt = context.build(s)
    migrate.upgrade(rt.engine)
    context.install(rt)
    return rt


def _run(*args: str):
    return CliRunner().invoke(svcard, list(args), catch_exceptions=False)


def test_run_says_what_is_missing_keys_url_then_host_key(tmp_path) -> None:
    rt = _install(tmp_path, {"SVCARD_PARTNER_SZT_URL": "sftp://szt@127.0.0.1:1/sva"})
    try:
        no_keys = _run("exchange", "run", "BOCSZ")
        assert no_keys.exit_code == 1 and "run `svcard keys init`" in no_keys.output
        assert _run("keys", "init").exit_code == 0
        partner = tmp_path / "partner.pem"
        partner.write_bytes(cert_pem(make_identity("partner test")[0]))
        for pid in ("BOCSZ", "SZT"):
            assert _run("keys", "trust", pid, str(partner)).exit_code == 0
        no_url = _run("exchange", "run", "BOCSZ")
        assert no_url.exit_code == 2
        assert "svcard: SVCARD_PARTNER_BOCSZ_URL is not set: cannot reach BOCSZ" in no_url.output
        unpinned = _run("exchange", "run", "SZT")
        assert unpinned.exit_code == 1
        assert "svcard: SFTP_CONFIG: no pinned SFTP host key for SZT" in unpinned.output
        # The command ends on its message, not on an exception escaping it (the job's own
        # log line above it may carry the stack, for the log).
        for result in (no_keys, no_url, unpinned):
            assert result.output.rstrip().splitlines()[-1].startswith("svcard: ")
    finally:
        context.install(None)
        rt.engine.dispose()
