"""The exchange jobs' own logic around the engine (the engine is tested over SFTP in
tests/integration/test_exchange_engine.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from jobs import exchange as jobs


def test_a_file_that_fails_holds_back_its_own_type_not_the_others_and_acks_still_go(monkeypatch):
    """E.g. a SWIPE that cannot be applied must not stop the next days' CARDRESULT and
    CARDSTATUS: later files of its own type wait (their order matters), the others are
    applied, the ACKs owed still go, and the job fails afterwards naming the file."""
    files = [
        SimpleNamespace(id=1, name="CARDSTATUS_BOCSZ_20270111_001.txt.p7m", file_type="CARDSTATUS"),
        SimpleNamespace(id=2, name="SWIPE_BOCSZ_20270111_001.txt.p7m", file_type="SWIPE"),
        SimpleNamespace(id=3, name="CARDRESULT_BOCSZ_20270112_001.txt.p7m", file_type="CARDRESULT"),
        SimpleNamespace(id=4, name="CARDSTATUS_BOCSZ_20270112_001.txt.p7m", file_type="CARDSTATUS"),
        SimpleNamespace(id=5, name="SWIPE_BOCSZ_20270112_001.txt.p7m", file_type="SWIPE"),
    ]
    processed, acked = [], []

    def process(file_id):
        if file_id == 2:
            raise RuntimeError("defect")
        processed.append(file_id)
        return "processed"

    monkeypatch.setattr(jobs.exchange, "fetch", lambda p: SimpleNamespace(new=[], duplicates=[], held=[]))
    monkeypatch.setattr(jobs.exchange, "pending_inbound", lambda session, partner: files)
    monkeypatch.setattr(jobs.exchange, "process", process)
    monkeypatch.setattr(jobs.exchange, "upload_stranded", lambda partner, file_type=None: [])
    monkeypatch.setattr(jobs.exchange, "send_acks", lambda partner: acked.append(partner))
    monkeypatch.setattr(jobs, "transaction", _no_transaction)
    monkeypatch.setattr(jobs.context, "current", lambda: SimpleNamespace(sessions=None))
    with pytest.raises(RuntimeError, match="SWIPE_BOCSZ_20270111_001"):
        jobs.fetch_and_process("BOCSZ", "2027-01-12")
    assert processed == [1, 3, 4]  # the later SWIPE waits behind the failed one
    assert acked == ["BOCSZ"]


class _no_transaction:
    def __init__(self, sessions):
        pass

    def __enter__(self):
        return SimpleNamespace(execute=lambda q: SimpleNamespace(all=lambda: []))

    def __exit__(self, *exc):
        return False
