"""The rules of recorded service time (gateway.domain.service_rules), one rule per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.lifecycle import CardState
from gateway.domain.service_rules import (
    CardClosed,
    CardLost,
    CardNotCollected,
    CardNotUsable,
    CheckOutBeforeCheckIn,
    SessionTooLong,
    SwipeInFuture,
    card_refusal,
    check_session_end,
    check_swipe_time,
    is_repeat,
)

T0 = datetime(2026, 12, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "refusal"),
    [
        (CardState.IN_USE, None),
        (CardState.LOST, CardLost),
        (CardState.CUT_CLOSED, CardClosed),
        (CardState.ACCOUNT_CLOSED, CardClosed),
        (CardState.PRODUCED, CardNotCollected),
        (CardState.NOTIFIED, CardNotCollected),
        (CardState.EXPIRED, CardNotUsable),
        (CardState.REPLACED, CardNotUsable),
    ],
)
def test_only_a_card_in_use_starts_a_session(state, refusal):
    found = card_refusal(state, False, starting=True)
    assert (type(found) if found else None) is refusal


def test_a_card_reported_lost_on_the_platform_is_lost_already():
    assert isinstance(card_refusal(CardState.IN_USE, True, starting=True), CardLost)


def test_a_check_out_is_refused_only_for_a_lost_card():
    assert card_refusal(CardState.ACCOUNT_CLOSED, False, starting=False) is None
    assert isinstance(card_refusal(CardState.LOST, False, starting=False), CardLost)
    assert isinstance(card_refusal(CardState.IN_USE, True, starting=False), CardLost)


def test_refusals_carry_their_code_field_and_status():
    lost = card_refusal(CardState.LOST, False, starting=True)
    assert (lost.code, lost.field, lost.http_status) == ("CARD_LOST", "card_id", 409)


def test_a_session_ends_after_it_begins_and_within_a_day():
    assert check_session_end(T0, T0 + timedelta(hours=3, seconds=59)) == 180
    assert check_session_end(T0, T0 + timedelta(days=1)) == 1440
    with pytest.raises(CheckOutBeforeCheckIn):
        check_session_end(T0, T0)
    with pytest.raises(SessionTooLong) as info:
        check_session_end(T0, T0 + timedelta(days=1, seconds=1))
    assert info.value.code == "SESSION_TOO_LONG" and info.value.http_status == 422


def test_a_swipe_may_run_five_minutes_ahead_of_our_clock_not_more():
    check_swipe_time(T0 + timedelta(minutes=5), T0)
    check_swipe_time(T0 - timedelta(days=3), T0)  # an offline terminal's late upload
    with pytest.raises(SwipeInFuture):
        check_swipe_time(T0 + timedelta(minutes=5, seconds=1), T0)


def test_a_swipe_within_a_minute_either_way_is_a_repeat():
    assert is_repeat(T0, T0 + timedelta(seconds=60)) and is_repeat(T0, T0 - timedelta(seconds=30))
    assert not is_repeat(T0, T0 + timedelta(seconds=61))
