"""`svcard exchange alerts` / `resolve-alert`: an operator who dealt with an alert closes
it with a recorded note, so the open list shows only what still needs someone."""

from __future__ import annotations

from click.testing import CliRunner

from gateway.db import transaction
from gateway.models.exchange import Alert
from gateway.services.alerts import raise_alert


def test_an_operator_resolves_an_alert_with_a_note_and_it_leaves_the_open_list(runtime) -> None:
    from gateway.cli.exchange import cli

    with transaction(runtime.sessions) as s:
        raise_alert(s, "file_missing", "BOCSZ", "expected CARDSTATUS for 20261207 has not arrived", "m1")
        raise_alert(s, "SOAP_SECURITY", "SZHC", "FailedAuthentication", "SZHC: calls stopped")
        missing, security = (a.id for a in s.query(Alert).order_by(Alert.id))
    runner = CliRunner()
    no_note = runner.invoke(cli, ["resolve-alert", str(missing)])
    assert no_note.exit_code != 0 and "--note" in no_note.output
    done = runner.invoke(cli, ["resolve-alert", str(missing), "--note", "bank resent it at 09:10"])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(cli, ["alerts"])
    assert "CARDSTATUS" not in listed.output and "FailedAuthentication" in listed.output
    everything = runner.invoke(cli, ["alerts", "--all"])
    assert "bank resent it at 09:10" in everything.output
    # a security stop is lifted only by the partner's own resume command
    refused = runner.invoke(cli, ["resolve-alert", str(security), "--note", "x"])
    assert refused.exit_code == 1 and "svcard health resume" in refused.output
    twice = runner.invoke(cli, ["resolve-alert", str(missing), "--note", "again"])
    assert twice.exit_code == 1 and "already resolved" in twice.output
