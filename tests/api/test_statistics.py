"""Statistics routes: the monthly aggregates the statistics job keeps, read by every staff
role; a session counts in its check-in's Beijing month, in its district and its terminal's
organisation; the answers come from the aggregates (nothing before the job has run); the
CSV export defuses formulas; bad arguments are refused with the field named."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from gateway.db import transaction
from gateway.models.statistics import StatDimension
from gateway.services import statistics
from gateway.timeutil import beijing_today
from jobs import statistics as stats_job
from tests.api.conftest import bearer
from tests.api.test_service import card_of

TERMINALS = (
    ("POS-FT-0001", "福田区义工联", "福田区"),
    ("POS-NS-0001", "南山区义工联", "南山区"),
    ("POS-X-0001", "=1+1", "罗湖区"),  # an organisation a spreadsheet would run
)


@pytest.fixture
def served(client, tokens, platform, app) -> tuple[str, str]:
    """Two volunteers (each with the 10 hours of ``official()`` on 1 November, no place)
    and their sessions in November 2026, at terminals, outside the city, and across the
    month's edge."""
    for i, (tid, org, district) in enumerate(TERMINALS):
        body = {"terminal_id": tid, "organisation": org, "district": district}
        r = client.post(
            "/api/terminals", json=body, headers=bearer(tokens["operator"], **{"Idempotency-Key": f"t{i}"})
        )
        assert r.status_code == 201, r.get_json()
    a, b = platform.official(), platform.official()
    card_a = card_of(app, a["volunteer_no"], "COLLECTED")

    def session(who: dict, start: str, end: str, **where) -> None:
        ident = {"card_id": card_a} if who is a else {"volunteer_no": who["volunteer_no"]}
        r = platform.post("/api/service/check-in", {**ident, **where, "at": start})
        assert r.status_code == 201, r.get_json()
        if end:
            r = platform.post("/api/service/check-out", {**ident, "at": end})
            assert r.status_code == 200, r.get_json()

    session(a, "2026-11-10T01:00:00+00:00", "2026-11-10T03:00:00+00:00", terminal_id="POS-FT-0001")  # 120
    session(a, "2026-11-20T01:00:00+00:00", "2026-11-20T02:00:00+00:00", terminal_id="POS-NS-0001")  # 60
    session(a, "2026-11-21T01:00:00+00:00", "2026-11-21T01:30:00+00:00", terminal_id="POS-X-0001")  # 30
    # 1 November 00:30 in Beijing: November's; 23:00 on 31 October in Beijing: October's.
    session(b, "2026-10-31T16:30:00+00:00", "2026-10-31T18:00:00+00:00", district="OUTSIDE")  # 90
    session(b, "2026-10-31T14:00:00+00:00", "2026-10-31T14:30:00+00:00", district="OUTSIDE")  # 30
    session(b, "2026-11-25T01:00:00+00:00", "", district="福田区")  # open: no minutes yet, not counted
    return a["volunteer_no"], b["volunteer_no"]


def get(client, token: str, url: str):
    r = client.get(url, headers=bearer(token))
    assert r.status_code == 200, (url, r.get_json())
    return r.get_json()


def month(answer: dict, name: str) -> dict:
    return next(m for m in answer["months"] if m["month"] == name)


def test_the_figures_are_the_aggregates_the_job_keeps(app, client, tokens, served) -> None:
    before = get(client, tokens["operator"], "/api/statistics?year=2026")
    assert len(before["months"]) == 12
    assert month(before, "2026-11") | {"computed_at": None} == month(before, "2026-11")
    assert month(before, "2026-11")["sessions"] == 0  # nothing is counted per request

    assert stats_job.refresh(month="2026-11") == {"2026-11": 6}
    assert stats_job.refresh(month="2026-10") == {"2026-10": 1}
    year = get(client, tokens["auditor"], "/api/statistics?year=2026")
    nov = month(year, "2026-11")
    # 600 + 600 (official()), 120 + 60 + 30 (a, terminals), 90 (b, outside, Beijing's 1 November)
    assert (nov["sessions"], nov["service_hours"], nov["volunteers"]) == (6, 25.0, 2)
    assert nov["average_hours"] == 12.5 and nov["computed_at"] is not None
    oct_ = month(year, "2026-10")
    assert (oct_["sessions"], oct_["service_hours"], oct_["volunteers"], oct_["average_hours"]) == (
        1,
        0.5,
        1,
        0.5,
    )
    assert month(year, "2026-09")["average_hours"] is None

    districts = get(client, tokens["platform"], "/api/statistics/districts?month=2026-11")["cells"]
    assert [(c["key"], c["name"], c["service_hours"], c["sessions"], c["volunteers"]) for c in districts] == [
        (None, None, 20.0, 2, 2),
        ("440304", "福田区", 2.0, 1, 1),
        ("OUTSIDE", "深圳市外", 1.5, 1, 1),
        ("440305", "南山区", 1.0, 1, 1),
        ("440303", "罗湖区", 0.5, 1, 1),
    ]
    orgs = get(client, tokens["operator"], "/api/statistics/organisations?year=2026")["cells"]
    assert [(c["month"], c["key"], c["service_hours"]) for c in orgs] == [
        ("2026-10", None, 0.5),
        ("2026-11", None, 21.5),
        ("2026-11", "福田区义工联", 2.0),
        ("2026-11", "南山区义工联", 1.0),
        ("2026-11", "=1+1", 0.5),
    ]
    # the console's district figures for one organisation
    with transaction(app.extensions["svcard"].sessions) as s:
        nov_ = date(2026, 11, 1)
        by_org = statistics.cells(s, StatDimension.ORGANISATION_DISTRICT, nov_, nov_, key="南山区义工联")
        assert [(c.key, c.sub, c.minutes, c.volunteers) for c in by_org] == [
            ("南山区义工联", "440305", 60, 1)
        ]
        assert statistics.organisations(s, nov_, nov_) == ["=1+1", "南山区义工联", "福田区义工联"]


def test_a_refresh_replaces_the_month_and_the_schedule_refreshes_this_month_and_the_last(
    client, tokens, served
) -> None:
    first = stats_job.refresh(month="2026-11")
    cells = get(client, tokens["operator"], "/api/statistics/districts?month=2026-11")["cells"]
    assert stats_job.refresh(month="2026-11") == first  # twice: the same rows, not twice the figures
    assert get(client, tokens["operator"], "/api/statistics/districts?month=2026-11")["cells"] == cells
    # The scheduled run (no month): the month of ``today`` and the one before it.
    assert stats_job.refresh(today="2026-12-01") == {"2026-11": 6, "2026-12": 0}
    # The fixture's volunteers applied and were approved, and the card was collected, at
    # the real time of the test: those figures are in the real month.
    today = beijing_today()
    stats_job.refresh(today=today.isoformat())
    now = month(get(client, tokens["operator"], f"/api/statistics?year={today.year}"), f"{today:%Y-%m}")
    assert (now["applied"], now["official"], now["cards_collected"]) == (2, 2, 1)


def test_the_csv_export_has_the_months_and_the_cells_with_formulas_defused(client, tokens, served) -> None:
    stats_job.refresh(month="2026-11")
    r = client.get("/api/statistics/export.csv?year=2026", headers=bearer(tokens["auditor"]))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'filename="statistics-2026.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0][:7] == ["table", "month", "key", "name", "service_hours", "sessions", "volunteers"]
    assert sum(row[0] == "month" for row in rows) == 12
    assert ["month", "2026-11", "", "", "25.0", "6", "2", "12.5"] == rows[11][:8]
    assert ["district", "2026-11", "440304", "福田区", "2.0", "1", "1"] == [
        row for row in rows if row[0] == "district" and row[2] == "440304"
    ][0][:7]
    org_keys = [row[2] for row in rows if row[0] == "organisation"]
    assert "'=1+1" in org_keys and "=1+1" not in org_keys


def test_bad_arguments_are_refused_with_the_field_and_roles_are_kept(client, tokens) -> None:
    for url, field in (
        ("/api/statistics?year=abc", "year"),
        ("/api/statistics?year=1999", "year"),
        ("/api/statistics/districts?month=2026-13", "month"),
        ("/api/statistics/organisations?month=11-2026", "month"),
    ):
        r = client.get(url, headers=bearer(tokens["operator"]))
        assert r.status_code == 422 and r.mimetype == "application/problem+json", (url, r.get_json())
        assert field in str(r.get_json()), (url, r.get_json())
    assert client.get("/api/statistics", headers=bearer(tokens["admin"])).status_code == 403
    assert client.get("/api/statistics").status_code == 401
