"""A sixth file partner, declared only in ``tests/partners/library/``, runs its whole
nightly cycle through the real jobs against a real SFTP server: our LIBREQ sent and
acknowledged, the library's LIBACK fetched, applied and acknowledged back, a missing
LIBACK alerted — with no file of the gateway, the schemas or the sandbox naming it."""

from __future__ import annotations

import inspect
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway import context
from gateway.db import transaction
from gateway.keystore import open_keystore
from gateway.models.exchange import Alert, ExchangeFile
from gateway.partners import registry
from gateway.services import channels
from gateway.timeutil import beijing_today
from jobs.schedule import entries, resolve
from keys.identity import cert_pem, make_identity
from sandbox.wire import Party, SvaCerts
from tests.partners import library
from tests.partners.library import records
from tests.partners.library.sandbox import LibraryOffice, sftp_server
from tests.services.foundation_helpers import official

pytestmark = pytest.mark.integration
PASSPHRASE = "test-keystore-passphrase"
DAY = beijing_today()  # our ACKs are dated the day they are written
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sixth_partner():
    registry.register(library.PARTNER)
    records.register()
    yield library.PARTNER
    channels.CHANNELS.pop(library.ID, None)
    records.unregister()
    registry.unregister(library.ID)


def _run(name: str, day: date):
    """Run one of the registry's schedule entries for ``day``, as `svcard cron` would on
    that day (each job takes its date as the one parameter the entry does not set)."""
    item = next(e for e in entries() if e.name == name)
    func = resolve(item.func)
    (date_param,) = [p for p in inspect.signature(func).parameters if p not in item.kwargs]
    return func(**item.kwargs, **{date_param: day.isoformat()})


def test_a_sixth_partner_declared_in_one_package_runs_its_nightly_cycle(
    sixth_partner, tmp_path, db_url, own_gateway
) -> None:
    # The keystore, the settings and the schedule know the partner from the registry alone.
    ks = open_keystore(tmp_path / "keys", PASSPHRASE)
    ks.init()
    me = Party(library.ID, *make_identity(f"{library.ID} sandbox"))
    ks.trust(library.ID, cert_pem(me.cert))
    server = sftp_server(tmp_path / "sftp", ks.ssh_client_key())
    server.start()
    office = None
    try:
        ks.trust_host(library.ID, f"[{server.host}]:{server.port} {server.host_key_line}")
        environ = {"SVCARD_PARTNER_SZLIB_URL": server.url("szlib")}
        rt = own_gateway(db_url, ks.path, PASSPHRASE, environ=environ, retry_base_delay=0.0)
        assert rt.settings.partner_url(library.ID) == server.url("szlib")
        assert {"szlib-send", "szlib-fetch", "szlib-expected"} <= {e.name for e in entries()}
        with transaction(rt.sessions) as session:
            numbers = [official(session).volunteer_no for _ in range(3)]
        sva = SvaCerts(sign=ks.certificate("sign"), decrypt=ks.certificate("decrypt"))
        office = LibraryOffice(server.folder("szlib"), me, sva)

        # The day before: nothing came, and the registry's expected file is alerted.
        assert _run("szlib-expected", DAY - timedelta(days=1)) == [
            f"LIBACK for {DAY - timedelta(days=1):%Y%m%d}"
        ]

        sent = _run("szlib-send", DAY)
        assert sent == [f"LIBREQ_SVA_{DAY:%Y%m%d}_001.txt.p7m"]
        office.run_day(DAY)  # the library: opens, checks, ACKs, answers
        report = _run("szlib-fetch", DAY)
        assert report.fetched == [
            f"ACK_{library.ID}_{DAY:%Y%m%d}_001.txt.p7m",
            f"LIBACK_{library.ID}_{DAY:%Y%m%d}_001.txt.p7m",
        ]
        assert report.acks == [f"ACK_SVA_{DAY:%Y%m%d}_001.txt.p7m"]
        office.intake(DAY)  # the library reads our ACK of its LIBACK
        assert _run("szlib-expected", DAY) == []

        with transaction(rt.sessions) as session:
            files = {
                f.file_type: f
                for f in session.scalars(select(ExchangeFile).where(ExchangeFile.partner == library.ID))
            }
            assert files["LIBREQ"].direction == "out" and files["LIBREQ"].status == "accepted"
            assert files["LIBREQ"].record_count == len(numbers)
            assert files["LIBACK"].status == "processed" and files["LIBACK"].ack_file_id is not None
            failed = sum(n.endswith("9") for n in numbers)
            assert files["LIBACK"].detail == f"{len(numbers) - failed} OK, {failed} FAILED"
            kinds = [a.kind for a in session.scalars(select(Alert).where(Alert.partner == library.ID))]
            assert kinds.count("file_missing") == 1 and kinds.count("library_request_failed") == failed
        assert office.sent_files() == [(f"LIBACK_{library.ID}_{DAY:%Y%m%d}_001.txt.p7m", "ACCEPTED", None)]

        # A second night sends nothing new: every volunteer was asked once.
        assert _run("szlib-send", DAY + timedelta(days=1)) == [
            f"LIBREQ_SVA_{DAY + timedelta(days=1):%Y%m%d}_001.txt.p7m"
        ]
        with transaction(rt.sessions) as session:
            again = session.scalar(
                select(ExchangeFile).where(
                    ExchangeFile.partner == library.ID, ExchangeFile.business_date == DAY + timedelta(days=1)
                )
            )
            assert again.record_count == 0
    finally:
        context.install(None)
        if office is not None:
            office.close()
        server.stop()


def test_no_code_outside_the_library_package_names_the_sixth_partner() -> None:
    # The partner is a unit: its id appears in its own package and nowhere else.
    out = subprocess.run(
        ["git", "grep", "-l", library.ID, "--", ".", ":!tests/partners/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1 and out.stdout == "", out.stdout
