"""The exchange engine end to end over a real SFTP server (the sandbox's paramiko server),
with real envelopes, on SQLite and PostgreSQL. A small test channel stands in for a
partner's business logic, so what is tested here is the engine's own contract:
SEQ and upload, duplicates and held names, envelope and file refusals with their codes,
record errors, one transaction per file, ACKs both ways.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
from datetime import date

import pytest
from sqlalchemy import func, select

from gateway import wiring
from gateway.db import transaction
from gateway.models.exchange import Alert, ExchangeFile, FileApplication, OutboundItem
from gateway.services import archive, channels, exchange
from gateway.services.channels import Batch, Channel
from gateway.services.exchange import apply, outbound
from keys import envelope
from keys.identity import cert_pem, make_identity
from keys.keystore import Keystore
from sandbox.sftp_server import SandboxSftpServer
from schemas import writer
from schemas.reader import Record
from schemas.reader import read as read_file

PARTNER = "SZT"
DAY = date(2027, 1, 12)
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def partner_identity():
    return make_identity("SZT sandbox (test)")


class RequestListBuilder:
    file_type, ext = "TRANSITREQ", "txt"

    def __init__(self):
        self.pending: list[dict] = []
        self.acks: list = []

    def due_on(self, session, business_date):
        return True

    def collect(self, session, business_date):
        return Batch(
            records=list(self.pending), refs=[("transit_request", r["request_id"]) for r in self.pending]
        )

    def mark_in_file(self, session, file, written, refused):
        sent = {ref for _, ref in written}
        self.pending = [r for r in self.pending if r["request_id"] not in sent]

    def on_ack(self, session, file, outcome):
        self.acks.append((file.name, outcome.status, outcome.code, outcome.errors_by_ref))


class AlertRowHandler:
    """Applies TRANSITACK records as Alert rows: a visible effect inside the transaction."""

    file_type = "TRANSITACK"
    fail_after: int | None = None

    def apply(self, session, file, header, records):
        for n, rec in enumerate(records):
            assert isinstance(rec, Record)
            if self.fail_after is not None and n >= self.fail_after:
                raise RuntimeError("worker died mid-file")
            session.add(
                Alert(kind="test_applied", partner=PARTNER, subject=rec.data["request_id"], message=file.name)
            )


PASSPHRASE = "test-keystore-passphrase"


@pytest.fixture(scope="module")
def shared(tmp_path_factory, partner_identity):
    """One keystore (RSA keys are slow to make) and one SFTP server for the module."""
    base = tmp_path_factory.mktemp("engine")
    ks = Keystore(base / "keys", PASSPHRASE)
    ks.init()
    server = SandboxSftpServer(base / "sftp", [ks.ssh_client_key()], partners=[PARTNER])
    server.start()
    ks.trust(PARTNER, cert_pem(partner_identity[0]))
    ks.trust_host(PARTNER, f"[127.0.0.1]:{server.port} {server.host_key_line}\n")
    yield ks, server
    server.stop()


@pytest.fixture
def world(db_url, shared, own_gateway, monkeypatch):
    """A migrated gateway (SQLite or PostgreSQL) with an empty SFTP account and the test channel."""
    ks, server = shared
    folder = server.folder("szt")
    for sub in ("inbox", "outbox"):
        shutil.rmtree(folder / sub, ignore_errors=True)
        (folder / sub).mkdir(parents=True)
    urls = {PARTNER: server.url("szt")}
    rt = own_gateway(db_url, ks.path, PASSPHRASE, partner_urls=urls, retry_base_delay=0.0)
    builder, handler = RequestListBuilder(), AlertRowHandler()
    monkeypatch.setattr(channels, "load_all", lambda: None)
    monkeypatch.setitem(
        channels.CHANNELS,
        PARTNER,
        Channel(
            PARTNER,
            outbound={"TRANSITREQ": builder},
            inbound={"TRANSITACK": handler},
            inbound_order=("TRANSITACK",),
        ),
    )
    return type(
        "World", (), dict(rt=rt, ks=ks, builder=builder, handler=handler, folder=folder, server=server)
    )


@pytest.fixture
def ports(world):
    """The ports of the world's runtime, as a job would build them."""
    with wiring.ports(world.rt) as p:
        yield p


def sva_certs(ks: Keystore):
    return [ks.certificate("decrypt")]


def partner_file(w, file_type, records, seq=1, bdate=DAY, name=None, tamper=False) -> str:
    """Write, seal as the partner and drop into the partner's outbox."""
    cert, key = make_identity_cached()
    plain, _ = writer.write_bytes(
        file_type,
        records,
        sender=PARTNER,
        receiver="SVA",
        business_date=bdate,
        seq=seq,
        created_time=DAY_TIME,
    )
    sealed = bytearray(envelope.seal(plain, cert, key, sva_certs(w.ks)))
    if tamper:
        sealed[len(sealed) // 2] ^= 0x01
    name = name or f"{writer.file_name(file_type, PARTNER, bdate, seq)}.p7m"
    (w.folder / "outbox" / name).write_bytes(bytes(sealed))
    return name


_IDENTITY = {}
from datetime import datetime  # noqa: E402

DAY_TIME = datetime(2027, 1, 12, 6, 45, 10)


def make_identity_cached():
    return _IDENTITY["id"]


@pytest.fixture(autouse=True)
def _cache_identity(partner_identity):
    _IDENTITY["id"] = partner_identity


def ack(w, rid="TR2027011200001"):
    return {
        "request_id": rid,
        "result": "OK",
        "reason_code": None,
        "transit_account_no": "310000417726",
        "processed_date": DAY,
    }


def our_ack_lines(w, partner_identity):
    """Open the ACK files we uploaded to the partner's inbox, as the partner would."""
    out = []
    for p in sorted((w.folder / "inbox").glob("ACK_SVA_*.p7m")):
        plain = envelope.open_envelope(p.read_bytes(), [partner_identity], [w.ks.certificate("sign")])
        out += [
            r.data for r in read_file(io.BytesIO(plain), file_name=p.name, sender="SVA", receiver=PARTNER)
        ]
    return out


def count(w, model, *where):
    with transaction(w.rt.sessions) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_outbound_file_is_sealed_uploaded_and_not_sent_twice(world, ports, partner_identity):
    w = world
    w.builder.pending = [
        {
            "request_id": "TR2027011200001",
            "action": "ENABLE",
            "card_id": "K7Q2M9X4B1C8D3E5",
            "volunteer_no": "2019004417",
            "effective_date": DAY,
        }
    ]
    report = exchange.send(ports, PARTNER, "TRANSITREQ", DAY)
    assert report.name == "TRANSITREQ_SVA_20270112_001.txt.p7m" and report.records == 1
    uploaded = w.folder / "inbox" / report.name
    assert uploaded.exists() and not list((w.folder / "inbox").glob("*.part"))
    plain = envelope.open_envelope(uploaded.read_bytes(), [partner_identity], [w.ks.certificate("sign")])
    assert plain.startswith(b"H|TRANSITREQ|1.0|SVA|SZT|20270112|001|") and b"\r\nT|1|0\r\n" in plain
    # the scheduled file for that date exists: nothing more to send, no second file
    assert exchange.send(ports, PARTNER, "TRANSITREQ", DAY) is None
    with transaction(w.rt.sessions) as s:
        f = s.scalar(select(ExchangeFile).where(ExchangeFile.name == report.name))
        assert f.status == "sent" and f.sha256 and f.plain_path and f.raw_path
        assert [(i.line, i.ref) for i in s.scalars(select(OutboundItem))] == [(2, "TR2027011200001")]
    # a new pending record later that day goes in the next SEQ
    w.builder.pending = [
        {
            "request_id": "TR2027011200002",
            "action": "DISABLE",
            "card_id": "Z1Y2X3W4V5U6T7S8",
            "volunteer_no": "2016001203",
            "effective_date": DAY,
        }
    ]
    assert exchange.send(ports, PARTNER, "TRANSITREQ", DAY).name == "TRANSITREQ_SVA_20270112_002.txt.p7m"


def test_inbound_file_applied_once_and_acknowledged(world, ports, partner_identity):
    w = world
    name = partner_file(w, "TRANSITACK", [ack(w)])
    got = exchange.fetch(ports, PARTNER)
    assert len(got.new) == 1
    assert exchange.process(ports, got.new[0]) == "processed"
    assert exchange.process(ports, got.new[0]) == "processed"  # again: nothing more applied
    assert count(w, Alert, Alert.kind == "test_applied") == 1
    exchange.send_acks(ports, PARTNER)
    lines = our_ack_lines(w, partner_identity)
    assert [(a["original_file_name"], a["status"], a["error_code"]) for a in lines] == [
        (name, "ACCEPTED", None)
    ]
    # the name is still listed by the partner: skipped, not downloaded, not acknowledged again
    again = exchange.fetch(ports, PARTNER)
    assert again.new == [] and again.skipped == 1
    assert exchange.send_acks(ports, PARTNER) is None


def test_renamed_copy_is_e06_once_and_a_reused_name_is_held(world, ports, partner_identity):
    w = world
    name = partner_file(w, "TRANSITACK", [ack(w)])
    exchange.process(ports, exchange.fetch(ports, PARTNER).new[0])
    # the same bytes under another name: a duplicate, acknowledged E06 once, not applied
    (w.folder / "outbox" / "TRANSITACK_SZT_20270112_009.txt.p7m").write_bytes(
        (w.folder / "outbox" / name).read_bytes()
    )
    got = exchange.fetch(ports, PARTNER)
    assert len(got.duplicates) == 1 and not got.new
    assert count(w, Alert, Alert.kind == "test_applied") == 1
    exchange.send_acks(ports, PARTNER)
    codes = sorted((a["status"], a["error_code"] or "") for a in our_ack_lines(w, partner_identity))
    assert codes == [("ACCEPTED", ""), ("REJECTED", "E06")]
    assert exchange.fetch(ports, PARTNER).skipped == 2
    assert exchange.send_acks(ports, PARTNER) is None
    # a stored name that now holds other bytes is held for an operator, with an alert
    partner_file(w, "TRANSITACK", [ack(w, "TR2027011200003"), ack(w, "TR2027011200004")])
    got = exchange.fetch(ports, PARTNER)
    assert got.held == [name] and not got.new
    assert count(w, Alert, Alert.kind == "file_name_reused") == 1
    assert count(w, Alert, Alert.kind == "test_applied") == 1


def test_tampered_file_refused_with_its_code_and_nothing_applied(world, ports, partner_identity):
    w = world
    partner_file(w, "TRANSITACK", [ack(w)], tamper=True)
    fid = exchange.fetch(ports, PARTNER).new[0]
    assert exchange.process(ports, fid) == "rejected"
    with transaction(w.rt.sessions) as s:
        f = s.get(ExchangeFile, fid)
        assert f.ack_code in ("E01", "E02") and f.ack_status == "REJECTED"
    assert count(w, Alert, Alert.kind == "test_applied") == 0


def test_record_error_partial_and_whole_file_error_rolls_back(world, ports, partner_identity):
    w = world
    good = ack(w, "TR2027011200001")
    cert, key = partner_identity
    plain, _ = writer.write_bytes(
        "TRANSITACK", [good], sender=PARTNER, receiver="SVA", business_date=DAY, seq=1, created_time=DAY_TIME
    )
    # a record the writer would refuse, written by hand as a careless partner would
    plain = plain.replace(b"\r\nT|1|0", b"\r\nD|TR2027011200002|MAYBE|||20270112\r\nT|2|0")
    (w.folder / "outbox" / "TRANSITACK_SZT_20270112_001.txt.p7m").write_bytes(
        envelope.seal(plain, cert, key, sva_certs(w.ks))
    )
    # and a file whose trailer count is wrong: nothing of it may stay applied
    broken = plain.replace(b"T|2|0", b"T|3|0")
    (w.folder / "outbox" / "TRANSITACK_SZT_20270112_002.txt.p7m").write_bytes(
        envelope.seal(broken.replace(b"|001|", b"|002|", 1), cert, key, sva_certs(w.ks))
    )
    ids = exchange.fetch(ports, PARTNER).new
    assert [exchange.process(ports, i) for i in ids] == ["partial", "rejected"]
    assert count(w, Alert, Alert.kind == "test_applied") == 1  # the good record of the partial file
    with transaction(w.rt.sessions) as s:
        partial, rejected = s.get(ExchangeFile, ids[0]), s.get(ExchangeFile, ids[1])
        assert partial.ack_code == "E07" and partial.ack_text.startswith("line:3:result:")
        assert rejected.ack_code == "E04"


def test_crash_mid_file_leaves_nothing_and_rerun_applies_once(world, ports):
    w = world
    partner_file(w, "TRANSITACK", [ack(w, f"TR20270112{n:05d}") for n in range(5)])
    fid = exchange.fetch(ports, PARTNER).new[0]
    w.handler.fail_after = 3
    with pytest.raises(RuntimeError, match="worker died"):
        exchange.process(ports, fid)
    assert count(w, Alert, Alert.kind == "test_applied") == 0
    w.handler.fail_after = None
    assert exchange.process(ports, fid) == "processed"
    assert count(w, Alert, Alert.kind == "test_applied") == 5


def test_partner_partial_ack_reaches_the_builder_by_reference(world, ports, partner_identity):
    w = world
    w.builder.pending = [
        {
            "request_id": f"TR202701120000{n}",
            "action": "ENABLE",
            "card_id": "K7Q2M9X4B1C8D3E5",
            "volunteer_no": "2019004417",
            "effective_date": DAY,
        }
        for n in (1, 2)
    ]
    sent = exchange.send(ports, PARTNER, "TRANSITREQ", DAY)
    with transaction(w.rt.sessions) as s:
        sha = s.scalar(select(ExchangeFile.sha256).where(ExchangeFile.name == sent.name))
    partner_file(
        w,
        "ACK",
        [
            {
                "original_file_name": sent.name,
                "sha256": sha,
                "status": "PARTIAL",
                "error_code": "E07",
                "error_text": "line:3:card_id:card unknown",
            }
        ],
    )
    for fid in exchange.fetch(ports, PARTNER).new:
        exchange.process(ports, fid)
    assert w.builder.acks == [
        (
            sent.name,
            "PARTIAL",
            "E07",
            {("transit_request", "TR2027011200002"): ["line:3:card_id:card unknown"]},
        )
    ]
    with transaction(w.rt.sessions) as s:
        f = s.scalar(select(ExchangeFile).where(ExchangeFile.name == sent.name))
        assert f.status == "partial" and [e.render() for e in f.record_errors] == [
            "line:3:card_id:card unknown"
        ]
    assert exchange.send_acks(ports, PARTNER) is None  # an ACK is never acknowledged


def _pending_request(rid: str) -> dict:
    return {
        "request_id": rid,
        "action": "ENABLE",
        "card_id": "K7Q2M9X4B1C8D3E5",
        "volunteer_no": "2019004417",
        "effective_date": DAY,
    }


def test_a_file_prepared_but_never_uploaded_goes_at_the_next_run_whatever_its_date(world, ports):
    from jobs.exchange import send_scheduled

    w = world
    w.builder.pending = [_pending_request("TR2027011200001")]
    fid = exchange.prepare(ports, PARTNER, "TRANSITREQ", DAY)  # the worker died before the upload
    with transaction(w.rt.sessions) as s:
        name, sealed = s.get(ExchangeFile, fid).name, s.get(ExchangeFile, fid).raw_path
    assert not (w.folder / "inbox" / name).exists()
    # the next day's scheduled run sends the stranded file first, with the same bytes
    sent = send_scheduled(PARTNER, date(2027, 1, 13).isoformat())
    assert sent == [name, "TRANSITREQ_SVA_20270113_001.txt.p7m"]
    assert (w.folder / "inbox" / name).read_bytes() == archive.raw_path(w.rt.settings, sealed).read_bytes()
    with transaction(w.rt.sessions) as s:
        assert s.get(ExchangeFile, fid).status == "sent"


def test_an_ack_whose_upload_failed_is_uploaded_by_the_next_cycle(world, monkeypatch):
    from jobs.exchange import fetch_and_process

    w = world
    name = partner_file(w, "TRANSITACK", [ack(w)])
    real_upload = outbound.upload

    def network_down(ports, file_id, deliver=None):
        raise OSError("connection reset")

    monkeypatch.setattr(outbound, "upload", network_down)
    with pytest.raises(OSError):
        fetch_and_process(PARTNER)
    assert not list((w.folder / "inbox").glob("ACK_SVA_*"))
    monkeypatch.setattr(outbound, "upload", real_upload)
    report = fetch_and_process(PARTNER)  # nothing new to fetch, but the ACK we owe goes
    assert len(report.acks) == 1
    assert [a["original_file_name"] for a in our_ack_lines(w, _IDENTITY["id"])] == [name]


def test_our_ack_is_dated_the_day_it_is_written_whatever_day_the_cycle_is_for(world):
    from gateway.timeutil import beijing_today
    from jobs.exchange import fetch_and_process

    w = world
    partner_file(w, "TRANSITACK", [ack(w)])
    report = fetch_and_process(PARTNER, DAY.isoformat())  # e.g. `svcard exchange run SZT --date ...`
    assert report.acks == [f"ACK_SVA_{beijing_today():%Y%m%d}_001.txt.p7m"]


def test_a_reused_name_is_held_once_not_again_at_every_fetch(world, ports, partner_identity):
    w = world
    name = partner_file(w, "TRANSITACK", [ack(w)])
    exchange.process(ports, exchange.fetch(ports, PARTNER).new[0])
    partner_file(w, "TRANSITACK", [ack(w, "TR2027011200003"), ack(w, "TR2027011200004")])
    assert exchange.fetch(ports, PARTNER).held == [name]
    with transaction(w.rt.sessions) as s:
        alert = s.scalar(select(Alert).where(Alert.kind == "file_name_reused"))
        alert.resolved_at = alert.created_at  # the operator dealt with it
        f = s.scalar(select(ExchangeFile).where(ExchangeFile.name == name))
        assert f.status == "processed" and "other bytes" in f.detail  # what was applied stays
    again = exchange.fetch(ports, PARTNER)  # the partner keeps the file for 30 days
    assert again.held == [] and again.skipped == 1
    assert count(w, Alert, Alert.kind == "file_name_reused") == 1


def test_a_file_that_cannot_be_applied_is_an_alert_until_it_is(world, ports):
    from click.testing import CliRunner

    from gateway.cli.exchange import cli

    w = world
    name = partner_file(w, "TRANSITACK", [ack(w, f"TR20270112{n:05d}") for n in range(3)])
    fid = exchange.fetch(ports, PARTNER).new[0]
    w.handler.fail_after = 1  # e.g. a defect in the partner's handler, or the database went away
    with pytest.raises(RuntimeError):
        exchange.process(ports, fid)
    listed = CliRunner().invoke(cli, ["alerts"])
    assert name in listed.output and "RuntimeError" in listed.output
    assert "worker died" not in listed.output  # the error's text may quote record values: log only
    w.handler.fail_after = None
    assert exchange.process(ports, fid) == "processed"
    assert count(w, Alert, Alert.kind == "file_not_applied", Alert.resolved_at.is_(None)) == 0


def test_two_workers_processing_one_file_at_once_apply_it_once(world, ports, monkeypatch):
    """Two workers on one file: both report 'processed', the records are applied once, no
    error surfaces. On PostgreSQL the file's row lock makes the second wait until the first
    commits, then it finds the file applied (it must never mark the file a duplicate of
    itself, as a status check without the lock once did). SQLite has no row locks: there
    both pass the status check before either commits (forced with a barrier) and the
    file_applications gate decides; the loser's retry, with a fresh reader, finds the file
    applied."""
    import threading

    w = world
    partner_file(w, "TRANSITACK", [ack(w, f"TR20270112{n:05d}") for n in range(3)])
    fid = exchange.fetch(ports, PARTNER).new[0]
    if w.rt.settings.database_url.startswith("sqlite"):
        gate, real = threading.Barrier(2, timeout=20), apply._worker_name

        def both_at_the_gate() -> str:
            gate.wait()  # called just before the gate row is inserted
            return real()

        monkeypatch.setattr(apply, "_worker_name", both_at_the_gate)
    results, errors = [], []

    def worker() -> None:
        try:
            results.append(exchange.process(ports, fid))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and results == ["processed", "processed"]
    assert count(w, Alert, Alert.kind == "test_applied") == 3
    assert count(w, FileApplication) == 1
    with transaction(w.rt.sessions) as s:
        row = s.get(ExchangeFile, fid)
        assert (row.status, row.duplicate_of_id, row.ack_status) == ("processed", None, "ACCEPTED")


def test_a_data_file_whose_upload_failed_goes_at_the_next_fetch_cycle_not_tomorrow(world, ports):
    from jobs.exchange import fetch_and_process

    w = world
    w.builder.pending = [_pending_request("TR2027011200001")]
    fid = exchange.prepare(ports, PARTNER, "TRANSITREQ", DAY)  # the 02:00 upload failed
    report = fetch_and_process(PARTNER)  # the 07:15 cycle
    with transaction(w.rt.sessions) as s:
        row = s.get(ExchangeFile, fid)
        assert report.sent == [row.name] and row.status == "sent"


def test_one_file_type_failing_does_not_keep_the_partners_other_files_from_going(world):
    """E.g. a CARDORDER that cannot be built must not hold back the day's CARDREQ (the loss
    reports): every scheduled file is tried, then the job fails, naming what failed."""
    from jobs.exchange import send_scheduled

    class Broken:
        file_type, ext = "CARDORDER", "zip"

        def due_on(self, session, business_date):
            return True

        def collect(self, session, business_date):
            raise RuntimeError("photo store unreachable")

    w = world
    ch = channels.CHANNELS[PARTNER]
    ch.outbound = {"CARDORDER": Broken(), "TRANSITREQ": w.builder}
    with pytest.raises(RuntimeError, match="CARDORDER"):
        send_scheduled(PARTNER, DAY.isoformat())
    assert (w.folder / "inbox" / "TRANSITREQ_SVA_20270112_001.txt.p7m").exists()


def test_a_stranded_file_that_cannot_go_keeps_neither_the_others_nor_todays_files_back(
    world, ports, monkeypatch
):
    from jobs.exchange import send_scheduled

    w = world
    w.builder.pending = [_pending_request("TR2027011100001")]
    broken = exchange.prepare(ports, PARTNER, "TRANSITREQ", date(2027, 1, 11))
    w.builder.pending = [_pending_request("TR2027011200002")]
    fine = exchange.prepare(ports, PARTNER, "TRANSITREQ", DAY)
    real = outbound.upload

    def upload(ports, file_id, deliver=None):
        if file_id == broken:
            raise FileNotFoundError("archive copy missing")
        return real(ports, file_id, deliver)

    monkeypatch.setattr(outbound, "upload", upload)
    with pytest.raises(RuntimeError, match="earlier files"):
        send_scheduled(PARTNER, date(2027, 1, 13).isoformat())
    # the other stranded file and the day's scheduled file still went
    with transaction(w.rt.sessions) as s:
        assert (s.get(ExchangeFile, broken).status, s.get(ExchangeFile, fine).status) == ("prepared", "sent")
    assert (w.folder / "inbox" / "TRANSITREQ_SVA_20270113_001.txt.p7m").exists()


def test_replay_applies_a_file_rejected_for_an_unpinned_signer_once_its_certificate_is_pinned(
    world, ports, partner_identity
):
    """The partner rotated its signing key before we pinned the new certificate: E02,
    nothing applied. Once an operator pins it, `replay` (comment required, kept on the
    file) applies the file once and answers it with a new ACK; a second replay is refused."""
    w = world
    new_cert, new_key = make_identity("SZT sandbox, rotated (test)")
    plain, _ = writer.write_bytes(
        "TRANSITACK",
        [ack(w)],
        sender=PARTNER,
        receiver="SVA",
        business_date=DAY,
        seq=1,
        created_time=DAY_TIME,
    )
    name = "TRANSITACK_SZT_20270112_001.txt.p7m"
    (w.folder / "outbox" / name).write_bytes(envelope.seal(plain, new_cert, new_key, sva_certs(w.ks)))
    fid = exchange.fetch(ports, PARTNER).new[0]
    assert exchange.process(ports, fid) == "rejected"
    exchange.send_acks(ports, PARTNER)
    assert count(w, Alert, Alert.kind == "test_applied") == 0
    with pytest.raises(exchange.ReplayRefused):
        exchange.replay(ports, fid, "  ", actor="op")  # no comment, no replay
    fp = w.ks.trust(PARTNER, cert_pem(new_cert))
    try:
        assert exchange.replay(ports, fid, "SZT's new certificate pinned", actor="op") == "processed"
        with pytest.raises(exchange.ReplayRefused):
            exchange.replay(ports, fid, "again", actor="op")  # only a rejected file is replayed
        exchange.send_acks(ports, PARTNER)
    finally:
        w.ks.untrust(PARTNER, fp)  # the module's keystore is shared
    assert count(w, Alert, Alert.kind == "test_applied") == 1
    with transaction(w.rt.sessions) as s:
        f = s.get(ExchangeFile, fid)
        assert f.status == "processed" and f.ack_status == "ACCEPTED" and f.ack_code is None
        assert "op: SZT's new certificate pinned" in f.comment
    lines = our_ack_lines(w, partner_identity)
    assert [(a["original_file_name"], a["status"], a["error_code"]) for a in lines] == [
        (name, "REJECTED", "E02"),
        (name, "ACCEPTED", None),
    ]


def test_a_changed_host_key_is_refused_recorded_as_an_alert_and_nothing_fetched(world, ports, tmp_path):
    w = world
    partner_file(w, "TRANSITACK", [ack(w)])
    # The partner's server now answers with another host key (same address, new port):
    # nothing pinned matches, so the transport refuses at once, without retrying.
    other = SandboxSftpServer(w.folder.parent, [w.ks.ssh_client_key()], partners=[PARTNER])
    other.start()
    # what we pinned for that address is the partner's old key
    w.ks.trust_host(PARTNER, f"[127.0.0.1]:{other.port} {w.server.host_key_line}\n")
    try:
        s = ports.settings
        moved = dataclasses.replace(
            ports, settings=dataclasses.replace(s, partner_urls={**s.partner_urls, PARTNER: other.url("szt")})
        )
        from adapters.sftp_errors import HostKeyError

        with pytest.raises(HostKeyError):
            exchange.fetch(moved, PARTNER)
        with pytest.raises(HostKeyError):  # a second try is refused again, still one open alert
            exchange.fetch(moved, PARTNER)
    finally:
        other.stop()
    with transaction(w.rt.sessions) as s:
        alerts = s.scalars(select(Alert).where(Alert.kind == "sftp_host_key_refused")).all()
        assert len(alerts) == 1 and alerts[0].partner == PARTNER and alerts[0].resolved_at is None
        assert s.scalar(select(func.count()).select_from(ExchangeFile)) == 0  # nothing fetched
