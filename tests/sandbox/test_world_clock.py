"""The sandbox partners' working days and simulated dates."""

from __future__ import annotations

from datetime import date

from sandbox.clock import add_months_clamped, add_working_days, is_working_day


def test_published_schedule_then_weekends_only():
    assert not is_working_day(date(2026, 10, 1))  # National Day, a Thursday
    assert is_working_day(date(2026, 10, 10))  # a make-up Saturday
    assert not is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert is_working_day(date(2027, 2, 8))  # 2027 not published: weekdays work
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)  # the golden week is off
    assert add_working_days(date(2026, 11, 27), 0) == date(2026, 11, 27)


def test_pickup_deadline_months_are_clamped_to_month_end():
    assert add_months_clamped(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months_clamped(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months_clamped(date(2026, 12, 15), 6) == date(2027, 6, 15)
