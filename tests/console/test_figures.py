"""The console and the metrics say the same (issue 16): at one moment, the overview's late
and due results, cards at risk and open alerts, and the held page's events, against what
``/metrics`` exposes for them, on the demo's month (tests/console/conftest.py)."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.console.test_http import sign_in


def _metrics(client) -> dict[str, dict[tuple, float]]:  # noqa: ANN001
    text = client.get("/metrics").get_data(as_text=True)
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def _rows(html: str, table: str, row_id: str) -> int:
    body = html[html.index(f'<table id="{table}">') :]
    body = body[: body.index("</table>")]
    return len(re.findall(rf'<tr id="{row_id}-\d+"', body)) if row_id else body.count("<tr>") - 1


def test_the_overview_and_the_metrics_give_the_same_figures(console_app, tokens) -> None:
    client = console_app.test_client()
    assert sign_in(client, tokens["operator"]).status_code == 302
    overview = client.get("/console/").get_data(as_text=True)
    held = client.get("/console/held?status=HELD").get_data(as_text=True)
    m = _metrics(client)

    late = int(re.search(r'<span class="badge late">[^<:]*: (\d+)</span>', overview)[1])
    due = int(re.search(r'<span class="badge due">[^<:]*: (\d+)</span>', overview)[1])
    orders = m["svcard_orders_awaiting_result"]
    assert (late, due) == (orders[(("when", "late"),)], orders[(("when", "due_soon"),)])

    at_risk = (
        0
        if "<td colspan" in overview.split('<table id="at-risk">')[1].split("</table>")[0]
        else _rows(overview, "at-risk", "")
    )
    assert at_risk == m["svcard_cards_at_risk"][()]

    alerts = _rows(overview, "alerts", "alert")
    assert alerts == sum(m["svcard_alerts_open"].values()) and alerts > 0  # the demo's month leaves some

    assert _rows(held, "held", "held") == m["svcard_bank_events_held"][()]
