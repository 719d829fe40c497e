"""Exchange routes: files with their ACKs and record errors, newest first; a partner's
cycle as a job; replaying a rejected inbound file."""

from __future__ import annotations

from datetime import date

import pytest

from tests.api.conftest import bearer


@pytest.fixture
def files(app) -> dict[str, int]:
    from gateway.db import transaction
    from gateway.models.exchange import ExchangeFile, RecordErrorRow

    rows = {
        "order": ExchangeFile(partner="BOCSZ", direction="out", file_type="CARDORDER", status="partial",
                              name="CARDORDER_SVA_20261127_001.zip", business_date=date(2026, 11, 27), seq=1,
                              record_count=3, ack_status="PARTIAL", ack_code="E05", ack_text="line:2:photo:missing"),
        "result": ExchangeFile(partner="BOCSZ", direction="in", file_type="CARDRESULT", status="rejected",
                               name="CARDRESULT_BOCSZ_20261127_001.txt", business_date=date(2026, 11, 27), seq=1,
                               ack_status="REJECTED", ack_code="E01", detail="signature does not verify"),
        "status": ExchangeFile(partner="BOCSZ", direction="in", file_type="CARDSTATUS", status="processed",
                               name="CARDSTATUS_BOCSZ_20261127_001.txt", business_date=date(2026, 11, 27), seq=1),
    }  # fmt: skip
    with transaction(app.extensions["svcard"].sessions) as s:
        for row in rows.values():
            s.add(row)
        s.flush()
        s.add(RecordErrorRow(file_id=rows["order"].id, line=2, field="photo", reason="missing"))
        return {k: v.id for k, v in rows.items()}


def test_files_newest_first_with_acks_and_record_errors(client, tokens, files) -> None:
    op = bearer(tokens["auditor"])
    listed = client.get("/api/exchanges/files", headers=op).get_json()["items"]
    assert [f["id"] for f in listed] == sorted(files.values(), reverse=True)
    page = client.get("/api/exchanges/files?limit=2", headers=op).get_json()
    rest = client.get(f"/api/exchanges/files?limit=2&cursor={page['next_cursor']}", headers=op).get_json()
    assert [f["id"] for f in page["items"] + rest["items"]] == [f["id"] for f in listed]
    inbound = client.get("/api/exchanges/files?direction=in&status=rejected", headers=op).get_json()["items"]
    assert [f["name"] for f in inbound] == ["CARDRESULT_BOCSZ_20261127_001.txt"]
    order = client.get(f"/api/exchanges/files/{files['order']}", headers=op).get_json()
    assert order["ack_status"] == "PARTIAL" and order["record_errors"] == [
        {"line": 2, "field": "photo", "reason": "missing"}
    ]
    assert "raw_path" not in order and "plain_path" not in order
    assert client.get("/api/exchanges/files/424242", headers=op).status_code == 404


def test_cycle_is_a_job_and_its_answer_is_idempotent(client, tokens) -> None:
    h = bearer(tokens["operator"], **{"Idempotency-Key": "cycle-1"})
    first = client.post("/api/exchanges/BOCSZ/cycle", json={"business_date": "2026-11-27"}, headers=h)
    assert first.status_code == 202
    job = first.get_json()
    # No Redis here: the job ran inline. This test world has no keys and no partner
    # endpoint, so the job failed, and the answer says so and why.
    assert job["mode"] == "inline" and job["func"] == "jobs.exchange.run_cycle"
    assert job["status"] == "failed" and job["error"] and job["report"] is None
    again = client.post("/api/exchanges/BOCSZ/cycle", json={"business_date": "2026-11-27"}, headers=h)
    assert again.get_json() == job and again.headers["Idempotent-Replayed"] == "true"
    assert client.post("/api/exchanges/NOPE/cycle", json={}, headers=h).status_code == 404
    bad = client.post("/api/exchanges/SZT/cycle", json={"business_date": "27.11.2026"},
                      headers=bearer(tokens["operator"], **{"Idempotency-Key": "cycle-2"}))  # fmt: skip
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["business_date"]


def test_replay_needs_a_rejected_inbound_file_and_a_comment(app, client, tokens, files, tmp_path) -> None:
    op = tokens["operator"]
    r = client.post(f"/api/exchanges/files/{files['status']}/replay", json={"comment": "again"},
                    headers=bearer(op, **{"Idempotency-Key": "r1"}))  # fmt: skip
    assert r.status_code == 409 and r.get_json()["type"].endswith("/replay-refused")
    r = client.post(f"/api/exchanges/files/{files['result']}/replay", json={},
                    headers=bearer(op, **{"Idempotency-Key": "r2"}))  # fmt: skip
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["comment"]
    # The rejected file's bytes, archived as the engine keeps them: still not an envelope
    # that opens, so the replay runs the whole path and rejects it again, with a new ACK.
    from gateway import wiring
    from gateway.db import transaction
    from gateway.models.exchange import ExchangeFile
    from gateway.services import archive

    settings = app.extensions["svcard"].settings
    wiring.ports(app.extensions["svcard"]).keystore().init()
    junk = tmp_path / "CARDRESULT_BOCSZ_20261127_001.txt.p7m"
    junk.write_bytes(b"not a CMS envelope")
    with transaction(app.extensions["svcard"].sessions) as s:
        s.get(ExchangeFile, files["result"]).raw_path = archive.store_raw(
            settings, "BOCSZ", date(2026, 11, 27), junk.name, junk
        ).path
    r = client.post(f"/api/exchanges/files/{files['result']}/replay", json={"comment": "new BOCSZ cert pinned"},
                    headers=bearer(op, **{"Idempotency-Key": "r3"}))  # fmt: skip
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (
        body["file"]["id"] == files["result"] and "operator: new BOCSZ cert pinned" in body["file"]["comment"]
    )
    assert body["outcome"] == body["file"]["status"] == "rejected" and body["file"]["ack_code"] == "E01"
