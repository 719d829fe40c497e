"""The effect table (gateway.domain.effects): what each bank event does besides the state."""

from gateway.domain.effects import EFFECTS, NONE, effects_of
from gateway.domain.lifecycle import CardEventType as E
from gateway.models.cards import Card, Order, RequestStatus


def test_every_named_field_and_status_exists() -> None:
    for event, eff in EFFECTS.items():
        if eff.order_date:
            assert hasattr(Order, eff.order_date), event
        if eff.card_time:
            assert hasattr(Card, eff.card_time), event
        if eff.cancel_requests:
            assert hasattr(RequestStatus, eff.cancel_requests.status), event


def test_cancel_order_answers_follow_bank_md() -> None:
    # too late once the card is made or notified; closed by a refusal or a withdrawal
    assert effects_of(E.PRODUCED).cancel_requests.status == "TOO_LATE"
    assert effects_of(E.NOTIFIED).cancel_requests.status == "TOO_LATE"
    for e in (E.REJECTED, E.ORDER_CANCELLED, E.ORDER_WITHDRAWN):
        assert effects_of(e).cancel_requests.status == "CLOSED" and effects_of(e).close_order


def test_only_notified_starts_the_pickup_deadline_and_only_collected_switches_on() -> None:
    assert [e for e, x in EFFECTS.items() if x.notified] == [E.NOTIFIED]
    assert [e for e, x in EFFECTS.items() if x.switch_on] == [E.COLLECTED]
    assert effects_of(E.LOST_REPORTED) is NONE  # its effect is the death rule's
