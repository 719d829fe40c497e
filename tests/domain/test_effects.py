"""The effect table (gateway.domain.effects): what each bank event does besides the state."""

from gateway.domain.effects import EFFECTS, NONE, Death, death_of, effects_of
from gateway.domain.functions import OffReason
from gateway.domain.lifecycle import CardEventType as E
from gateway.domain.lifecycle import CardState
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


def test_only_the_banks_accepted_and_notified_complete_an_inferred_event() -> None:
    assert sorted(e for e, x in EFFECTS.items() if x.completes_inferred) == [E.ACCEPTED, E.NOTIFIED]


def test_a_live_cards_death_switches_its_functions_off_a_dead_or_unmade_cards_does_not() -> None:
    lost = death_of(E.LOST_REPORTED, CardState.IN_USE, CardState.LOST)
    assert lost == Death(of_live_card=True, off_reason=OffReason.CARD_DEAD, health_moves=False)
    assert death_of(E.REJECTED, CardState.ORDERED, CardState.REJECTED).of_live_card is False
    assert death_of(E.COLLECTED, CardState.NOTIFIED, CardState.IN_USE) is None


def test_a_renewals_collection_replaces_the_old_card_and_moves_its_health_card() -> None:
    replaced = death_of(E.RENEWAL_COLLECTED, CardState.IN_USE, CardState.REPLACED)
    assert replaced == Death(of_live_card=True, off_reason=OffReason.REPLACED, health_moves=True)
