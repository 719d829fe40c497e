"""No list route's query count grows with its page size (issue 17): a page of 2 and a page
of 12 cost the same number of statements."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.api.conftest import bearer

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

LISTS = ["/api/cards?limit={n}", "/api/volunteers?limit={n}", "/api/exchanges/files?limit={n}"]


def _queries(app, client, url: str, token: str) -> int:
    seen = []

    def count(*_args, **_kwargs) -> None:
        seen.append(1)

    engine = app.extensions["svcard"].engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        r = client.get(url, headers=bearer(token))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 200, r.get_json()
    return len(seen)


def test_a_page_costs_the_same_queries_whatever_its_size(app, client, tokens, platform) -> None:
    from gateway.db import transaction
    from gateway.models import ExchangeFile

    for _ in range(12):
        platform.official()
    with transaction(app.extensions["svcard"].sessions) as s:
        s.add_all(ExchangeFile(partner="BOCSZ", direction="in", file_type="SWIPE", status="processed",
                               name=f"SWIPE_BOCSZ_202611{d:02d}_001.txt.p7m") for d in range(1, 13))  # fmt: skip
    for url in LISTS:
        small = _queries(app, client, url.format(n=2), tokens["operator"])
        large = _queries(app, client, url.format(n=12), tokens["operator"])
        assert small == large, f"{url}: {small} statements for 2 items, {large} for 12"
