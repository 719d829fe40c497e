"""Card use cases: place an order, apply a lifecycle event, hold an event for an operator.

Everything runs in the caller's session and transaction (one inbound file = one
transaction, one API request = one transaction); nothing here commits, and nothing talks
to a partner. Adapters read what this leaves behind: pending orders, pending card
requests, and function states ``ON_DUE``/``OFF_DUE``.

By concern: ``orders`` (placing and sending orders), ``events`` (applying lifecycle
events and their effects, from the domain's tables), ``requests`` (loss reports, held
events, deregistration), ``lookups``, and ``rows`` (what every change writes). Callers
use this package's names.
"""

from gateway.services.cards.events import apply_event, cancel_order
from gateway.services.cards.lookups import (
    card_by_token,
    card_for_volunteer,
    credit_cut_closed,
    function_state,
    has_held_events,
    open_renewal,
    order_by_id,
    recorded_result,
)
from gateway.services.cards.orders import (
    mark_record_error,
    mark_sent,
    place_first_orders,
    place_order,
    requeue_order,
)
from gateway.services.cards.requests import deregister_cards, hold_event, request_loss, resolve_held
from gateway.services.cards.rows import Applied, EventSource, beijing_midnight

__all__ = [
    "Applied",
    "EventSource",
    "apply_event",
    "beijing_midnight",
    "cancel_order",
    "card_by_token",
    "card_for_volunteer",
    "credit_cut_closed",
    "deregister_cards",
    "function_state",
    "has_held_events",
    "hold_event",
    "mark_record_error",
    "mark_sent",
    "open_renewal",
    "order_by_id",
    "place_first_orders",
    "place_order",
    "recorded_result",
    "request_loss",
    "requeue_order",
    "resolve_held",
]
