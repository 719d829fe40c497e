"""Working days and deadlines: service levels around Spring Festival and National Day
(with make-up working Saturdays), provisional years, pickup deadline and at-risk window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.domain import calendar as c
from gateway.domain.errors import Invalid


@pytest.fixture(scope="module")
def cal2026() -> c.WorkingCalendar:
    rows = c.holidays_schedule(2026)
    return c.WorkingCalendar({2026: {r.day: r.working for r in rows}})


def test_holidays_2026_has_the_state_council_make_up_days(cal2026) -> None:
    # 国办发明电〔2025〕7号: Spring Festival 15–23 Feb with 14 and 28 Feb (Saturdays) worked;
    # National Day 1–7 Oct with 20 Sep (Sunday) and 10 Oct (Saturday) worked.
    for d in (date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10), date(2026, 1, 4)):
        assert cal2026.is_working(d), d
    for d in (date(2026, 2, 16), date(2026, 2, 20), date(2026, 2, 23), date(2026, 10, 1), date(2026, 10, 7)):
        assert not cal2026.is_working(d), d
    assert cal2026.is_working(date(2026, 2, 24)) and cal2026.is_working(date(2026, 10, 8))


def test_service_levels_across_spring_festival_with_make_up_saturdays(cal2026) -> None:
    produced, notified = c.service_level_dues(cal2026, date(2026, 2, 10))
    # 11,12,13 Feb, Sat 14 Feb (make-up), [15–23 off], 24,25,26,27, Sat 28 Feb (make-up),
    # 2,3,4,5,6 Mar, 9 Mar = 15th; 10,11,12,13,16 Mar = 20th
    assert produced == c.Due(date(2026, 3, 9), False)
    assert notified == c.Due(date(2026, 3, 16), False)


def test_service_levels_across_national_day_with_make_up_saturday(cal2026) -> None:
    produced, notified = c.service_level_dues(cal2026, date(2026, 9, 28))
    # 29, 30 Sep, [1–7 Oct off], 8, 9, Sat 10 Oct (make-up), 12–16, 19–23 Oct: 23 Oct = 15th
    assert produced == c.Due(date(2026, 10, 23), False)
    assert notified == c.Due(date(2026, 10, 30), False)


def test_day0_itself_is_not_counted(cal2026) -> None:
    assert cal2026.add_working_days(date(2026, 3, 2), 1).day == date(2026, 3, 3)


def test_year_not_loaded_counts_weekends_only_and_is_provisional(cal2026) -> None:
    assert c.holidays_schedule(2027) is None  # holidays has no published 2027 schedule
    due = cal2026.add_working_days(date(2026, 12, 28), 5)
    # 29, 30, 31 Dec, then 1 Jan 2027 counted as a working day (not loaded), 4 Jan
    assert due == c.Due(date(2027, 1, 4), True)
    assert cal2026.add_working_days(date(2026, 12, 1), 5).provisional is False


def test_loading_a_year_changes_the_due_date() -> None:
    weekends_only = c.WorkingCalendar({})
    loaded = c.WorkingCalendar({2027: {date(2027, 1, 1): False}})
    assert weekends_only.add_working_days(date(2026, 12, 31), 1) == c.Due(date(2027, 1, 1), True)
    assert loaded.add_working_days(date(2026, 12, 31), 1) == c.Due(date(2027, 1, 4), False)


@pytest.mark.parametrize(
    ("notified", "deadline"),
    [
        (date(2026, 8, 31), date(2027, 2, 28)),
        (date(2027, 8, 31), date(2028, 2, 29)),
        (date(2026, 3, 15), date(2026, 9, 15)),
        (date(2026, 12, 31), date(2027, 6, 30)),
    ],
)
def test_pickup_deadline_six_months_clamped(notified, deadline) -> None:
    assert c.pickup_deadline(notified) == deadline


def test_at_risk_window_30_days_up_to_and_including_the_deadline() -> None:
    deadline = date(2027, 2, 28)
    assert not c.is_at_risk(deadline, date(2027, 1, 28))
    assert c.is_at_risk(deadline, date(2027, 1, 29))
    assert c.is_at_risk(deadline, deadline)
    assert not c.is_at_risk(deadline, date(2027, 3, 1))


def test_calendar_file_parses_and_reports_every_problem_by_line_and_column() -> None:
    rows = c.parse_calendar_csv("date,kind,name\n2027-02-06,workday,make-up\n20270208,holiday,春节\n", 2027)
    assert [(r.day, r.working) for r in rows] == [(date(2027, 2, 6), True), (date(2027, 2, 8), False)]
    bad = "date,kind,name\n2027-02-30,holiday,x\n2026-01-01,holiday,x\n2027-03-01,day off,x\n2027-03-01,holiday\n"
    with pytest.raises(Invalid) as info:
        c.parse_calendar_csv(bad, 2027, "cal.csv")
    msg = info.value.message
    assert "cal.csv:2:date:not a date" in msg
    assert "cal.csv:3:date:not in 2027" in msg
    assert "cal.csv:4:kind:must be holiday or workday" in msg
    with pytest.raises(Invalid):
        c.parse_calendar_csv("day,type\n", 2027)


def test_calendar_file_round_trip(cal2026) -> None:
    rows = c.holidays_schedule(2026)
    assert c.parse_calendar_csv(c.format_calendar_csv(rows), 2026) == rows


@given(
    start=st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 6, 30)),
    n=st.integers(min_value=1, max_value=25),
)
@settings(max_examples=200, deadline=None)
def test_nth_working_day_is_working_and_has_n_working_days_before_it(start, n) -> None:
    cal = c.WorkingCalendar({y: {r.day: r.working for r in c.holidays_schedule(y)} for y in (2025, 2026)})
    due = cal.add_working_days(start, n)
    days = [start + timedelta(days=i) for i in range(1, (due.day - start).days + 1)]
    assert cal.is_working(due.day)
    assert sum(cal.is_working(d) for d in days) == n
    assert due.provisional == any(d.year == 2027 for d in days)
