"""The card lifecycle, as data: states, events, the transition table and the carrier rules.

bank.md ("The card's life", CARDRESULT, CARDSTATUS, "Order across files") is the source.
``apply(state, event, carrier)`` is the only way a card's state changes; an event that does
not fit raises ``LifecycleError`` and changes nothing. ``inferred_before(state, event)``
says which events a later event proves (recorded first, marked inferred).

Plain Python: no I/O, no models.
"""

from __future__ import annotations

from enum import StrEnum


class Carrier(StrEnum):
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


class CardState(StrEnum):
    ORDERED = "ORDERED"  # in an order (pending or sent), no answer yet
    ACCEPTED = "ACCEPTED"  # the bank's audit passed
    REJECTED = "REJECTED"  # the bank refused the order (reason on the order); dead
    PRODUCED = "PRODUCED"  # card made (card_id known)
    NOTIFIED = "NOTIFIED"  # waiting at the branch; pickup deadline runs
    IN_USE = "IN_USE"  # collected
    LOST = "LOST"
    DAMAGED = "DAMAGED"
    REISSUED = "REISSUED"  # replaced by a reissued card (CARDSTATUS REISSUED)
    REPLACED = "REPLACED"  # replaced by its renewal, when the renewal was collected
    CUT_CLOSED = "CUT_CLOSED"
    EXPIRED = "EXPIRED"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
    CANCELLED = "CANCELLED"  # order withdrawn before sending, or cancelled on request (R07)


#: States in which the card can no longer be used.
DEAD_STATES = frozenset(
    {
        CardState.REJECTED,
        CardState.LOST,
        CardState.DAMAGED,
        CardState.REISSUED,
        CardState.REPLACED,
        CardState.CUT_CLOSED,
        CardState.EXPIRED,
        CardState.ACCOUNT_CLOSED,
        CardState.CANCELLED,
    }
)
#: States before the bank produced the card: an order that may still be cancelled.
NOT_PRODUCED_STATES = frozenset({CardState.ORDERED, CardState.ACCEPTED})
#: States in which the bank has a physical card (a card_id): loss may be reported.
PHYSICAL_STATES = frozenset({CardState.PRODUCED, CardState.NOTIFIED, CardState.IN_USE})
#: Display order (pipeline).
STATE_ORDER = list(CardState)


class CardEventType(StrEnum):
    # CARDRESULT (bank.md)
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    PRODUCED = "PRODUCED"
    NOTIFIED = "NOTIFIED"
    # CARDSTATUS (bank.md)
    COLLECTED = "COLLECTED"
    PICKUP_REMINDER = "PICKUP_REMINDER"
    CUT_CLOSED = "CUT_CLOSED"
    LOST_REPORTED = "LOST_REPORTED"
    DAMAGED_REPORTED = "DAMAGED_REPORTED"
    REISSUED = "REISSUED"
    EXPIRING = "EXPIRING"
    EXPIRED = "EXPIRED"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
    # our own
    ORDER_WITHDRAWN = "ORDER_WITHDRAWN"  # cancelled before it was sent to the bank
    ORDER_CANCELLED = "ORDER_CANCELLED"  # CARDRESULT REJECTED with R07 (cancelled on request)
    RENEWAL_COLLECTED = "RENEWAL_COLLECTED"  # applied to the old card when its renewal is collected
    LOSS_REQUESTED = "LOSS_REQUESTED"  # the volunteer reported a loss on the platform (marker)
    CREATED = "CREATED"  # the card record was created (order placed or reissue reported)


CARDRESULT_EVENTS = frozenset(
    {CardEventType.ACCEPTED, CardEventType.REJECTED, CardEventType.PRODUCED, CardEventType.NOTIFIED}
)
CARDSTATUS_EVENTS = frozenset(
    {
        CardEventType.COLLECTED,
        CardEventType.PICKUP_REMINDER,
        CardEventType.CUT_CLOSED,
        CardEventType.LOST_REPORTED,
        CardEventType.DAMAGED_REPORTED,
        CardEventType.REISSUED,
        CardEventType.EXPIRING,
        CardEventType.EXPIRED,
        CardEventType.ACCOUNT_CLOSED,
    }
)
#: REJECTED with this reason code means "cancelled on request" (bank.md CARDRESULT).
CANCELLED_ON_REQUEST = "R07"

S, E = CardState, CardEventType

#: The transition table: state -> {event: new state}. Anything not listed is refused.
TRANSITIONS: dict[CardState, dict[CardEventType, CardState]] = {
    S.ORDERED: {
        E.ACCEPTED: S.ACCEPTED,
        E.REJECTED: S.REJECTED,
        E.ORDER_CANCELLED: S.CANCELLED,
        E.ORDER_WITHDRAWN: S.CANCELLED,
    },
    S.ACCEPTED: {
        E.PRODUCED: S.PRODUCED,
        E.REJECTED: S.REJECTED,
        E.ORDER_CANCELLED: S.CANCELLED,
    },
    S.PRODUCED: {
        E.NOTIFIED: S.NOTIFIED,
        E.LOSS_REQUESTED: S.PRODUCED,
    },
    S.NOTIFIED: {
        E.COLLECTED: S.IN_USE,
        E.PICKUP_REMINDER: S.NOTIFIED,
        E.CUT_CLOSED: S.CUT_CLOSED,
        E.LOST_REPORTED: S.LOST,
        E.DAMAGED_REPORTED: S.DAMAGED,
        E.REISSUED: S.REISSUED,
        E.EXPIRING: S.NOTIFIED,
        E.EXPIRED: S.EXPIRED,
        E.ACCOUNT_CLOSED: S.ACCOUNT_CLOSED,
        E.RENEWAL_COLLECTED: S.REPLACED,
        E.LOSS_REQUESTED: S.NOTIFIED,
    },
    S.IN_USE: {
        E.LOST_REPORTED: S.LOST,
        E.DAMAGED_REPORTED: S.DAMAGED,
        E.REISSUED: S.REISSUED,
        E.EXPIRING: S.IN_USE,
        E.EXPIRED: S.EXPIRED,
        E.ACCOUNT_CLOSED: S.ACCOUNT_CLOSED,
        E.RENEWAL_COLLECTED: S.REPLACED,
        E.LOSS_REQUESTED: S.IN_USE,
    },
    # A lost or damaged card is dead; the bank's REISSUED then names its replacement.
    S.LOST: {E.REISSUED: S.REISSUED},
    S.DAMAGED: {E.REISSUED: S.REISSUED},
    # Only a DEBIT card that was cut and closed may be reissued (see CARRIER_REFUSED).
    S.CUT_CLOSED: {E.REISSUED: S.REISSUED},
    S.REJECTED: {},
    S.REISSUED: {},
    # bank.md 6: "EXPIRED without a collected renewal -> dead" — with one, the old card's
    # EXPIRED is the expected end of a card already replaced: recorded, nothing changes.
    S.REPLACED: {E.EXPIRED: S.REPLACED},
    S.EXPIRED: {},
    S.ACCOUNT_CLOSED: {},
    S.CANCELLED: {},
}

#: Carrier-specific refusals: (carrier, state, event) that the table would allow.
#: bank.md: "A CREDIT card that was cut and closed is never reissued".
CARRIER_REFUSED: frozenset[tuple[Carrier, CardState, CardEventType]] = frozenset(
    {(Carrier.CREDIT, S.CUT_CLOSED, E.REISSUED)}
)

#: "Order across files": an event that proves an earlier one the bank has not sent yet.
#: (state, event) -> events to record first, as inferred, in this order.
INFERENCES: dict[tuple[CardState, CardEventType], tuple[CardEventType, ...]] = {
    (S.ORDERED, E.PRODUCED): (E.ACCEPTED,),
    (S.PRODUCED, E.COLLECTED): (E.NOTIFIED,),
    (S.PRODUCED, E.PICKUP_REMINDER): (E.NOTIFIED,),
    (S.PRODUCED, E.CUT_CLOSED): (E.NOTIFIED,),
}


class LifecycleError(Exception):
    """An event that does not fit the card's state. Nothing was changed.

    Codes: ``CARD_DEAD`` (the card is dead and the event does not name a replacement),
    ``EVENT_NOT_ALLOWED`` (the event does not fit the state), ``CREDIT_NEVER_REISSUED``.
    """

    def __init__(
        self, code: str, current_state: CardState, event: CardEventType, allowed_events: list[str]
    ) -> None:
        self.code = code
        self.current_state = current_state
        self.event = event
        self.allowed_events = allowed_events
        allowed = ", ".join(allowed_events) or "none"
        super().__init__(f"{code}: {event} does not fit a card in state {current_state} (allowed: {allowed})")


def allowed_events(state: CardState, carrier: Carrier | str | None = None) -> list[str]:
    """The events that fit ``state`` for ``carrier`` (all carriers when None), in table order."""
    out = []
    for event in TRANSITIONS[CardState(state)]:
        if carrier is not None and (Carrier(carrier), CardState(state), event) in CARRIER_REFUSED:
            continue
        out.append(str(event))
    return out


def apply(state: CardState | str, event: CardEventType | str, carrier: Carrier | str) -> CardState:
    """The state after ``event``, or ``LifecycleError`` if it does not fit."""
    state, event, carrier = CardState(state), CardEventType(event), Carrier(carrier)
    if (carrier, state, event) in CARRIER_REFUSED:
        raise LifecycleError("CREDIT_NEVER_REISSUED", state, event, allowed_events(state, carrier))
    new = TRANSITIONS[state].get(event)
    if new is None:
        code = "CARD_DEAD" if state in DEAD_STATES else "EVENT_NOT_ALLOWED"
        raise LifecycleError(code, state, event, allowed_events(state, carrier))
    return new


def inferred_before(state: CardState | str, event: CardEventType | str) -> tuple[CardEventType, ...]:
    """Events a later ``event`` proves for a card in ``state`` (bank.md "Order across files"),
    to be recorded first, marked inferred. Empty when nothing is inferred."""
    return INFERENCES.get((CardState(state), CardEventType(event)), ())


def event_for_result(result: str, reason_code: str | None = None) -> CardEventType:
    """The lifecycle event for a CARDRESULT line: REJECTED with R07 is a cancellation."""
    if result == "REJECTED" and reason_code == CANCELLED_ON_REQUEST:
        return CardEventType.ORDER_CANCELLED
    return CardEventType(result)


class OrderRefused(Exception):
    """A card order the programme's rules forbid; ``code`` says which rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def check_order_allowed(
    *, order_type: str, carrier: Carrier | str, credit_cut_closed: bool, by_operator: bool, reason: str | None
) -> None:
    """bank.md "The card's life" 4: SVA never orders a card for a volunteer whose CREDIT
    card was cut and closed, except a NEW DEBIT card an operator orders with a recorded
    reason. Raises ``OrderRefused("CREDIT_CUT_CLOSED", ...)``."""
    if not credit_cut_closed:
        return
    if order_type == "NEW" and Carrier(carrier) is Carrier.DEBIT and by_operator and (reason or "").strip():
        return
    raise OrderRefused(
        "CREDIT_CUT_CLOSED",
        "the volunteer's CREDIT card was cut and closed: only a NEW DEBIT card ordered by an "
        "operator with a recorded reason is allowed",
    )


def is_dead(state: CardState | str) -> bool:
    return CardState(state) in DEAD_STATES


def is_death(event: CardEventType | str, new_state: CardState | str) -> bool:
    """True when applying ``event`` killed a card that could be used (or was waiting)."""
    return CardState(new_state) in DEAD_STATES and CardEventType(event) not in (
        CardEventType.REJECTED,
        CardEventType.ORDER_CANCELLED,
        CardEventType.ORDER_WITHDRAWN,
    )
