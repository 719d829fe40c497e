"""The daily INSROSTER over real HTTP: built from the volunteer rows, sealed with our
keystore for the BOCINS certificate we pinned, uploaded with UploadRoster, opened and
validated by the sandbox insurer's RosterDesk, and recorded like a file ACK."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli.insurance import cli as insurance_cli
from gateway.db import transaction
from gateway.models import ExchangeFile, Volunteer
from gateway.partners.insurer import service as insurance
from gateway.services import archive
from gateway.services import volunteers as vs
from gateway.timeutil import BEIJING
from jobs.insurance import send_roster as send_roster_job
from keys.identity import cert_pem, make_identity
from keys.keystore import Keystore
from sandbox.insurer_roster import RosterDesk
from sandbox.soap_sandbox import SoapSandbox
from sandbox.wire import Party, SvaCerts
from tests.integration.conftest import soap_environ
from tests.services.foundation_helpers import application, official

pytestmark = pytest.mark.integration
PASSPHRASE = "insurance-roster-test"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Our keystore (initialised here) with the BOCINS sandbox certificate pinned."""
    bocins = make_identity("BOCINS sandbox (test)")
    ks = Keystore(tmp_path_factory.mktemp("roster-keys") / "keys", PASSPHRASE)
    ks.init()
    ks.trust("BOCINS", cert_pem(bocins[0]))
    return ks, bocins


class Desk:
    """The sandbox RosterDesk, with an optional first answer forced (PARTIAL)."""

    def __init__(self, desk: RosterDesk) -> None:
        self.desk, self.forced = desk, []

    def __call__(self, name, content):
        if self.forced:
            return self.forced.pop(0)
        return self.desk(name, content)


@pytest.fixture
def desk(keys):
    ks, (cert, key) = keys
    return Desk(
        RosterDesk(Party("BOCINS", cert, key), SvaCerts(ks.certificate("sign"), ks.certificate("decrypt")))
    )


@pytest.fixture
def sandbox(desk):
    with SoapSandbox(roster_handler=desk) as sb:
        yield sb


@pytest.fixture
def settings(tmp_path, db_url, sandbox, keys, own_settings):
    return own_settings(
        db_url,
        keys[0].path,
        PASSPHRASE,
        environ=soap_environ(sandbox, "BOCINS"),
        spool_dir=tmp_path / "var" / "spool",
        retry_attempts=2,
        retry_base_delay=0.01,
    )


def volunteers(runtime) -> dict[str, str]:
    """Two official volunteers (one later deregistered) and an applicant; number -> role."""
    with transaction(runtime.sessions) as s:
        stays = official(s)
        leaves = official(s)
        vs.create_application(s, application(), actor="test")
        vs.deregister(s, leaves.volunteer_no, at=datetime.now(UTC) - timedelta(minutes=1), actor="test")
        return {stays.volunteer_no: "stays", leaves.volunteer_no: "leaves"}


def roster_rows(runtime) -> list[ExchangeFile]:
    with transaction(runtime.sessions) as s:
        rows = s.scalars(
            select(ExchangeFile).where(ExchangeFile.file_type == "INSROSTER").order_by(ExchangeFile.seq)
        ).all()
        for r in rows:
            _ = list(r.record_errors)
        return rows


def test_roster_is_accepted_by_the_insurer_with_every_official_volunteer_and_cover_dates(
    runtime, ports, sandbox, desk
):
    who = volunteers(runtime)
    today = datetime.now(UTC).astimezone(BEIJING).date()
    report = insurance.send_roster(ports)
    assert (report.status, report.ack_code, report.uploaded) == ("accepted", None, True) and report.roster_id
    name = f"INSROSTER_SVA_{today:%Y%m%d}_001.txt.p7m"
    assert report.name == name and report.records == 2
    received = desk.desk.received[name]
    assert received.status == "ACCEPTED"
    by_no = {data["volunteer_no"]: data for _line, data in received.records}
    assert set(by_no) == set(who)  # every volunteer ever official; not the applicant
    with transaction(runtime.sessions) as s:
        for no, role in who.items():
            v = s.scalar(select(Volunteer).where(Volunteer.volunteer_no == no))
            rec = by_no[no]
            assert (rec["name"], rec["id_number"], rec["birth_date"]) == (v.name, v.id_number, v.birth_date)
            assert rec["cover_from"] == v.official_since
            assert rec["cover_to"] == (today if role == "leaves" else None)
    # recorded like a file ACK, with both archive copies
    [row] = roster_rows(runtime)
    assert (row.partner, row.direction, row.status, row.ack_status) == (
        "BOCINS",
        "out",
        "accepted",
        "ACCEPTED",
    )
    assert archive.raw_path(runtime.settings, row.raw_path).read_bytes()[:1] == b"\x30"
    plain = io.BytesIO()
    archive.read_plain(runtime.settings, row.plain_path, plain)
    assert plain.getvalue().startswith(b"H|INSROSTER|1.0|SVA|BOCINS|")
    # the day is done: a second run sends nothing
    again = send_roster_job()  # the scheduled job
    assert again[0].startswith(f"{name}  2 record(s)  accepted") and "nothing sent" in again[-1]
    assert sandbox.insurer.calls["UploadRoster"] == 1


def test_after_partial_the_corrected_snapshot_takes_the_next_seq(runtime, ports, sandbox, desk):
    volunteers(runtime)
    desk.forced.append(("PARTIAL", "E07", "line:3:name:too long;line:2:record:unknown volunteer"))
    first = insurance.send_roster(ports)
    assert (first.status, first.ack_code) == ("partial", "E07")
    out = CliRunner().invoke(insurance_cli, ["roster", "send"])
    assert out.exit_code == 0, out.output
    assert "_002.txt.p7m" in out.output and "accepted" in out.output
    partial, accepted = roster_rows(runtime)
    assert [e.render() for e in partial.record_errors] == [
        "line:2:record:unknown volunteer",
        "line:3:name:too long",
    ]
    assert (partial.seq, accepted.seq, accepted.status) == (1, 2, "accepted")


def test_unanswered_roster_goes_again_under_the_same_name(runtime, ports, sandbox, desk):
    volunteers(runtime)
    sandbox.insurer.available = False
    down = insurance.send_roster(ports)
    assert down.error and "SOAP_RETRYABLE" in down.error and down.status == "prepared"
    sandbox.insurer.available = True
    up = insurance.send_roster(ports)
    assert (up.name, up.status) == (down.name, "accepted")
    [row] = roster_rows(runtime)
    assert row.status == "accepted" and sandbox.insurer.applied[row.name] == 1


def test_a_record_our_writer_refuses_is_named_and_the_others_go(runtime, ports, sandbox, desk):
    who = volunteers(runtime)
    bad = next(no for no, role in who.items() if role == "stays")
    with transaction(runtime.sessions) as s:
        s.scalar(select(Volunteer).where(Volunteer.volunteer_no == bad)).name = (
            "名" * 31
        )  # over 30 characters
    report = insurance.send_roster(ports)
    assert report.status == "accepted" and report.records == 1
    assert len(report.refused) == 1 and report.refused[0].startswith(f"{bad}: name: ")
    assert "名" not in report.refused[0]  # the value itself is never repeated
    [row] = roster_rows(runtime)
    assert row.detail.startswith(f"rosterId {report.roster_id}; refused by our writer: {bad}: name: ")
    assert insurance.send_roster(ports).roster_id == report.roster_id  # answered: read back, not sent


def test_a_roster_the_insurer_did_not_accept_whole_is_an_alert_for_operators(runtime, ports, sandbox, desk):
    from gateway.cli.exchange import cli as exchange_cli

    volunteers(runtime)
    desk.forced.append(("REJECTED", "E02", "bad or untrusted signature"))
    first = insurance.send_roster(ports)
    assert (first.status, first.ack_code) == ("rejected", "E02")
    out = CliRunner().invoke(exchange_cli, ["alerts"])
    assert out.exit_code == 0, out.output
    assert first.name in out.output and "REJECTED E02" in out.output
