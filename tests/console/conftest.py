"""Browser tests of the console: one demo run, one server and one headless Chromium for
the whole module (a session fixture each), so the suite stays fast.

Debian's chromium and chromium-driver are required: missing, the tests skip on a developer
machine and fail with CI=true (tests/conftest.py, ``require_service``), like the other
servers' tests. ``scripts/servers.sh`` installs both as root.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from demo import browser
from gateway.db import transaction
from gateway.models import Card, Volunteer
from gateway.models.exchange import ExchangeFile
from gateway.partners.bank import events as bev
from gateway.services import archive
from gateway.services import volunteers as vs
from schemas.reader import Record
from tests.conftest import require_service


@pytest.fixture(scope="session")
def console_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    why = browser.missing()
    if why:
        require_service("Chromium", why)
    root = tmp_path_factory.mktemp("console-demo")
    app = browser.demo_app(root / "demo", volunteers=60, days=31, identity_cache=root / "ids")
    _operator_work(app, root)
    yield app
    app.extensions["svcard"].engine.dispose()


def _operator_work(app: Flask, root: Path) -> None:
    """What the demo's month leaves no example of, made through the gateway's own code:

    - two bank events held for an operator: a COLLECTED for a card SVA does not know yet,
      whose PRODUCED then arrives (so it can be released), and one for a card SVA never
      hears of (to discard); both through the bank's CARDRESULT/CARDSTATUS handlers;
    - a rejected inbound file (bytes that are no envelope, archived as the engine keeps
      them), to replay.
    """
    runtime = app.extensions["svcard"]
    made, never = "6217850000009901", "6217850000009902"
    day, when = date(2026, 12, 7), datetime(2026, 12, 7, 3, 0, tzinfo=UTC)

    def feed(session, handler, name: str, *records: dict) -> None:
        handler.apply(session, SimpleNamespace(name=name), None,
                      iter(Record(i, handler.file_type, r) for i, r in enumerate(records, start=2)))  # fmt: skip
        session.flush()

    def status(volunteer_no: str, card_id: str, n: int) -> dict:
        return {"event_id": f"EVCONSOLE{n:03d}", "card_id": card_id, "volunteer_no": volunteer_no,
                "event": "COLLECTED", "event_time": when, "channel": "BRANCH", "new_card_id": None,
                "new_masked_pan": None, "new_expiry": None, "detail": ""}  # fmt: skip

    with transaction(runtime.sessions) as s:
        numbers = s.scalars(
            select(Volunteer.volunteer_no).join(Card, Card.volunteer_id == Volunteer.id)
            .where(Card.state == "REJECTED").order_by(Volunteer.id)
        ).all()  # fmt: skip
        assert numbers, "the demo's month has a rejected order (the bank's audit)"
        no = numbers[0]
        order = vs.order_new_card(s, no, actor="console-test", reason="corrected after the bank's rejection")

        def result(res: str) -> dict:
            produced = res == "PRODUCED"
            return {"order_id": order.order_id, "volunteer_no": no, "result": res, "reason_code": None,
                    "reason_text": "", "card_id": made if produced else None,
                    "masked_pan": "621785******9901" if produced else None, "expiry": "203111" if produced else None,
                    "branch_code": order.branch_code, "event_date": day}  # fmt: skip

        feed(s, bev.CardResultHandler(), "CARDRESULT_BOCSZ_20261207_091.txt.p7m", result("ACCEPTED"))
        feed(s, bev.CardStatusHandler(), "CARDSTATUS_BOCSZ_20261207_091.txt.p7m",
             status(no, made, 1), status(no, never, 2))  # fmt: skip
        feed(s, bev.CardResultHandler(), "CARDRESULT_BOCSZ_20261207_092.txt.p7m", result("PRODUCED"))
    junk = root / "CARDRESULT_BOCSZ_20261120_009.txt.p7m"
    junk.write_bytes(b"not a CMS envelope")
    with transaction(runtime.sessions) as s:
        raw = archive.store_raw(runtime.settings, "BOCSZ", date(2026, 11, 20), junk.name, junk)
        s.add(ExchangeFile(partner="BOCSZ", direction="in", file_type="CARDRESULT", status="rejected",
                           name="CARDRESULT_BOCSZ_20261120_009.txt", business_date=date(2026, 11, 20), seq=9,
                           ack_status="REJECTED", ack_code="E01", detail="signature does not verify",
                           raw_path=raw.path))  # fmt: skip


@pytest.fixture(scope="session")
def server(console_app: Flask) -> Iterator[browser.Served]:
    with browser.serve(console_app) as served:
        yield served


@pytest.fixture(scope="session")
def tokens(console_app: Flask) -> dict[str, str]:
    return {
        role: browser.token(console_app, role, f"console-{role}")
        for role in ("operator", "auditor", "platform")
    }


@pytest.fixture(scope="session")
def driver(server: browser.Served):
    d = browser.chromium()
    yield d
    d.quit()


@pytest.fixture
def fresh(driver, server):
    """The shared browser, signed out, its logs emptied."""
    driver.delete_all_cookies()
    driver.get(server.url + "/console/sign-in")
    driver.delete_all_cookies()
    driver.get_log("browser")
    driver.get_log("performance")
    return driver


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def requested_hosts(driver) -> set[str]:
    """Every host the pages asked for since the last call (the network log)."""
    hosts = set()
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if url.startswith(("http://", "https://", "ws://", "wss://")):
                hosts.add(urlsplit(url).netloc)
    return hosts
