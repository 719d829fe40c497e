"""The card lifecycle table: every transition allowed and every one refused."""

from __future__ import annotations

import pytest

from gateway.domain import lifecycle as lc
from gateway.domain.lifecycle import CardEventType as E
from gateway.domain.lifecycle import CardState as S
from gateway.domain.lifecycle import Carrier, LifecycleError

ALLOWED = [
    (state, event, new, carrier)
    for state, row in lc.TRANSITIONS.items()
    for event, new in row.items()
    for carrier in Carrier
    if (carrier, state, event) not in lc.CARRIER_REFUSED
]
REFUSED = [
    (state, event, carrier)
    for state in S
    for event in E
    for carrier in Carrier
    if event not in lc.TRANSITIONS[state] or (carrier, state, event) in lc.CARRIER_REFUSED
]


@pytest.mark.parametrize(("state", "event", "new", "carrier"), ALLOWED, ids=lambda x: str(x))
def test_allowed_transition(state, event, new, carrier) -> None:
    assert lc.apply(state, event, carrier) == new


@pytest.mark.parametrize(("state", "event", "carrier"), REFUSED, ids=lambda x: str(x))
def test_refused_transition_raises_coded_error(state, event, carrier) -> None:
    with pytest.raises(LifecycleError) as info:
        lc.apply(state, event, carrier)
    err = info.value
    assert err.current_state == state and err.event == event
    assert err.code in ("CARD_DEAD", "EVENT_NOT_ALLOWED", "CREDIT_NEVER_REISSUED")
    assert str(event) not in err.allowed_events


def test_every_state_and_event_is_in_the_table() -> None:
    assert set(lc.TRANSITIONS) == set(S)
    targets = {new for row in lc.TRANSITIONS.values() for new in row.values()}
    assert targets | {S.ORDERED} == set(S)


def test_card_life_happy_path() -> None:
    state = S.ORDERED
    for event in (E.ACCEPTED, E.PRODUCED, E.NOTIFIED, E.PICKUP_REMINDER, E.COLLECTED, E.EXPIRING, E.EXPIRED):
        state = lc.apply(state, event, "DEBIT")
    assert state == S.EXPIRED and lc.is_dead(state)


def test_rule_credit_cut_closed_never_reissued() -> None:
    with pytest.raises(LifecycleError) as info:
        lc.apply(S.CUT_CLOSED, E.REISSUED, "CREDIT")
    assert info.value.code == "CREDIT_NEVER_REISSUED"
    assert lc.apply(S.CUT_CLOSED, E.REISSUED, "DEBIT") == S.REISSUED


def test_collected_for_a_cut_closed_card_is_refused_as_dead() -> None:
    with pytest.raises(LifecycleError) as info:
        lc.apply(S.CUT_CLOSED, E.COLLECTED, "DEBIT")
    assert info.value.code == "CARD_DEAD"
    assert info.value.allowed_events == ["REISSUED"]


@pytest.mark.parametrize(
    ("state", "event", "inferred"),
    [
        (S.ORDERED, E.PRODUCED, (E.ACCEPTED,)),
        (S.PRODUCED, E.COLLECTED, (E.NOTIFIED,)),
        (S.PRODUCED, E.PICKUP_REMINDER, (E.NOTIFIED,)),
        (S.PRODUCED, E.CUT_CLOSED, (E.NOTIFIED,)),
        (S.NOTIFIED, E.COLLECTED, ()),
        (S.ORDERED, E.ACCEPTED, ()),
    ],
)
def test_rule_order_across_files_inferences(state, event, inferred) -> None:
    assert lc.inferred_before(state, event) == inferred
    for e in inferred:  # the inferred chain then fits
        state = lc.apply(state, e, "DEBIT")
    lc.apply(state, event, "DEBIT")


def test_rejected_r07_is_a_cancellation() -> None:
    assert lc.event_for_result("REJECTED", "R07") == E.ORDER_CANCELLED
    assert lc.event_for_result("REJECTED", "R01") == E.REJECTED
    assert lc.apply(S.ACCEPTED, lc.event_for_result("REJECTED", "R07"), "DEBIT") == S.CANCELLED


@pytest.mark.parametrize(
    ("order_type", "carrier", "by_operator", "reason", "allowed"),
    [
        ("NEW", "DEBIT", True, "volunteer asked at the counter", True),
        ("NEW", "DEBIT", True, "", False),
        ("NEW", "DEBIT", False, "reason", False),
        ("NEW", "CREDIT", True, "reason", False),
        ("RENEW", "DEBIT", True, "reason", False),
    ],
)
def test_rule_no_order_after_credit_cut_closed(order_type, carrier, by_operator, reason, allowed) -> None:
    kwargs = dict(order_type=order_type, carrier=carrier, by_operator=by_operator, reason=reason)
    lc.check_order_allowed(credit_cut_closed=False, **kwargs)  # no restriction otherwise
    if allowed:
        lc.check_order_allowed(credit_cut_closed=True, **kwargs)
    else:
        with pytest.raises(lc.OrderRefused) as info:
            lc.check_order_allowed(credit_cut_closed=True, **kwargs)
        assert info.value.code == "CREDIT_CUT_CLOSED"
