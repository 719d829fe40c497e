"""What each bank event does besides moving the card's state (the lifecycle table):
to the card's order, to the operator requests still open on it, to the card's own
fields, and which follow-up it starts. One row per event; the cards service applies the
row (``gateway.services.cards``). A card's death (a dead state reached) has its own rule,
:func:`death_of`, from the lifecycle table's dead states, whatever the event.

bank.md: an ACCEPTED, PRODUCED or NOTIFIED answers a CANCEL_ORDER "too late"; a REJECTED
or a cancellation closes the order and its CANCEL_ORDER; NOTIFIED starts the six-month
pickup deadline; EXPIRING orders the renewal; REISSUED makes the replacement card. The
bank's own ACCEPTED or NOTIFIED after we inferred it completes the inferred event. A live
card's death switches its functions off and cancels a renewal not yet produced; a
renewal's collection (RENEWAL_COLLECTED) moves the health card instead of suspending it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.functions import OffReason
from gateway.domain.lifecycle import NOT_PRODUCED_STATES, CardState, is_dead
from gateway.domain.lifecycle import CardEventType as E


@dataclass(frozen=True)
class CancelRequests:
    """The CANCEL_ORDER requests still open on the order are answered: ``status`` is a
    request status (CLOSED, TOO_LATE), ``outcome`` its text (``{reject_code}`` filled)."""

    status: str
    outcome: str


@dataclass(frozen=True)
class Effects:
    #: the order's date field set to the event's business date
    order_date: str | None = None
    #: ... also when the event was inferred (a later event implied it)
    order_date_if_inferred: bool = True
    #: the bank's reason code and text kept on the order
    reject_reason: bool = False
    #: the order is finished (no more results due)
    close_order: bool = False
    cancel_requests: CancelRequests | None = None
    #: the card's fields the bank gives (card_id, masked PAN, expiry, branch) taken
    card_fields: bool = False
    #: NOTIFIED: notified date and the pickup deadline
    notified: bool = False
    #: the card's field set to the event's instant
    card_time: str | None = None
    #: COLLECTED: the opted-in functions become due
    switch_on: bool = False
    #: EXPIRING: the renewal is ordered
    renew: bool = False
    #: REISSUED: the replacement card is made
    reissue: bool = False
    #: the bank's own event after we inferred it completes the inferred one (its dates and
    #: fields taken, no state moved, nothing else done again)
    completes_inferred: bool = False


NONE = Effects()

_REFUSED = Effects(
    reject_reason=True, close_order=True, cancel_requests=CancelRequests("CLOSED", "rejected {reject_code}")
)

EFFECTS: dict[E, Effects] = {
    E.ACCEPTED: Effects(order_date="accepted_on", order_date_if_inferred=False, completes_inferred=True),
    E.REJECTED: _REFUSED,
    E.ORDER_CANCELLED: _REFUSED,
    E.ORDER_WITHDRAWN: Effects(
        close_order=True, cancel_requests=CancelRequests("CLOSED", "withdrawn before sending")
    ),
    E.PRODUCED: Effects(
        card_fields=True,
        order_date="produced_on",
        cancel_requests=CancelRequests("TOO_LATE", "too late: PRODUCED"),
    ),
    E.NOTIFIED: Effects(
        card_fields=True,
        notified=True,
        order_date="notified_on",
        order_date_if_inferred=False,
        close_order=True,
        cancel_requests=CancelRequests("TOO_LATE", "too late: NOTIFIED"),
        completes_inferred=True,
    ),
    E.COLLECTED: Effects(card_time="collected_at", switch_on=True),
    E.EXPIRING: Effects(renew=True),
    E.LOSS_REQUESTED: Effects(card_time="loss_requested_at"),
    E.REISSUED: Effects(reissue=True),
}


def effects_of(event: E) -> Effects:
    return EFFECTS.get(event, NONE)


@dataclass(frozen=True)
class Death:
    """What reaching a dead state does, whatever the event (the loss reports raised before
    it are closed in every case)."""

    #: the card was produced and live until now: its functions go off and a renewal of it
    #: not yet produced is cancelled
    of_live_card: bool
    #: why its functions go off
    off_reason: OffReason
    #: the replacement's EnrollCard moves the health card: no SuspendCard for this one
    health_moves: bool


def death_of(event: E, before: CardState, after: CardState) -> Death | None:
    """The death ``event`` brings (moving the card from ``before`` to ``after``), or None
    while the card lives."""
    if not is_dead(after):
        return None
    replaced = event is E.RENEWAL_COLLECTED
    return Death(
        of_live_card=not is_dead(before) and before not in NOT_PRODUCED_STATES,
        off_reason=OffReason.REPLACED if replaced else OffReason.CARD_DEAD,
        health_moves=replaced,
    )
