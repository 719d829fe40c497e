"""What each bank event does besides moving the card's state (the lifecycle table):
to the card's order, to the operator requests still open on it, to the card's own
fields, and which follow-up it starts. One row per event; the cards service applies the
row (``gateway.services.cards``). A card's death (a dead state reached) has its own rule
there, from the lifecycle table's dead states, whatever the event.

bank.md: an ACCEPTED, PRODUCED or NOTIFIED answers a CANCEL_ORDER "too late"; a REJECTED
or a cancellation closes the order and its CANCEL_ORDER; NOTIFIED starts the six-month
pickup deadline; EXPIRING orders the renewal; REISSUED makes the replacement card.
"""

from __future__ import annotations

from dataclasses import dataclass

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


NONE = Effects()

_REFUSED = Effects(
    reject_reason=True, close_order=True, cancel_requests=CancelRequests("CLOSED", "rejected {reject_code}")
)

EFFECTS: dict[E, Effects] = {
    E.ACCEPTED: Effects(order_date="accepted_on", order_date_if_inferred=False),
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
    ),
    E.COLLECTED: Effects(card_time="collected_at", switch_on=True),
    E.EXPIRING: Effects(renew=True),
    E.LOSS_REQUESTED: Effects(card_time="loss_requested_at"),
    E.REISSUED: Effects(reissue=True),
}


def effects_of(event: E) -> Effects:
    return EFFECTS.get(event, NONE)
