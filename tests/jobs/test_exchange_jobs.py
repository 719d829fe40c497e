"""The exchange jobs' own logic around the engine (the engine is tested over SFTP in
tests/integration/test_exchange_engine.py)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from jobs import exchange as jobs

FILES = [
    ("CARDSTATUS_BOCSZ_20270111_001.txt.p7m", "CARDSTATUS"),
    ("SWIPE_BOCSZ_20270111_001.txt.p7m", "SWIPE"),
    ("CARDRESULT_BOCSZ_20270112_001.txt.p7m", "CARDRESULT"),
    ("CARDSTATUS_BOCSZ_20270112_001.txt.p7m", "CARDSTATUS"),
    ("SWIPE_BOCSZ_20270112_001.txt.p7m", "SWIPE"),
]


def _cycle(monkeypatch, failing: int) -> tuple[list[int], list[str]]:
    files = [SimpleNamespace(id=i, name=n, file_type=t) for i, (n, t) in enumerate(FILES, start=1)]
    processed, acked = [], []

    def process(ports, file_id):
        if file_id == failing:
            raise RuntimeError("defect")
        processed.append(file_id)
        return "processed"

    monkeypatch.setattr(
        jobs.exchange, "fetch", lambda ports, p: SimpleNamespace(new=[], duplicates=[], held=[])
    )
    monkeypatch.setattr(jobs.exchange, "pending_inbound", lambda session, partner: files)
    monkeypatch.setattr(jobs.exchange, "process", process)
    monkeypatch.setattr(jobs.exchange, "upload_stranded", lambda ports, partner, file_type=None: [])
    monkeypatch.setattr(jobs.exchange, "send_acks", lambda ports, partner: acked.append(partner))
    monkeypatch.setattr(
        jobs, "channel", lambda p: SimpleNamespace(inbound_order=("CARDRESULT", "CARDSTATUS", "SWIPE"))
    )
    monkeypatch.setattr(jobs, "transaction", _no_transaction)
    # the job's body, on ports of no runtime (the wrapper around it: tests/jobs/test_task.py)
    with pytest.raises(RuntimeError, match=FILES[failing - 1][0]):
        jobs._fetch_and_process(SimpleNamespace(sessions=None), "BOCSZ", date(2027, 1, 12))
    return processed, acked


def test_a_failed_card_result_holds_back_the_card_status_behind_it(monkeypatch):
    """bank.md: CARDRESULT before CARDSTATUS before SWIPE — never the other way round."""
    processed, acked = _cycle(monkeypatch, failing=3)
    assert processed == [1, 2] and acked == ["BOCSZ"]


def test_a_file_that_fails_holds_back_its_own_type_not_the_others_and_acks_still_go(monkeypatch):
    """E.g. a SWIPE that cannot be applied must not stop the next days' CARDRESULT and
    CARDSTATUS: later files of its own type wait (their order matters), the others are
    applied, the ACKs owed still go, and the job fails afterwards naming the file."""
    processed, acked = _cycle(monkeypatch, failing=2)
    assert processed == [1, 3, 4]  # the later SWIPE waits behind the failed one
    assert acked == ["BOCSZ"]


class _no_transaction:
    def __init__(self, sessions):
        pass

    def __enter__(self):
        return SimpleNamespace(execute=lambda q: SimpleNamespace(all=lambda: []))

    def __exit__(self, *exc):
        return False
