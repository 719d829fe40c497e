"""The functions a card carries besides payment, and how card events and deregistration
move them (bank.md "The card's life" 3, 6, 7; transit.md; health.md).

Each (card, function) has a state. ``ON_DUE``/``OFF_DUE`` mean "the partner must be told":
the transit and health adapters read them and set ``ON``/``OFF`` when the partner answered.
Insurance and donation credit need no call to a partner (the insurer roster and the
donation figures are computed from the volunteer's dates), so they go straight to
``ON``/``OFF``.
"""

from __future__ import annotations

from enum import StrEnum


class Function(StrEnum):
    TRANSIT = "TRANSIT"
    HEALTH = "HEALTH"
    INSURANCE = "INSURANCE"
    DONATION = "DONATION"


class FunctionState(StrEnum):
    OFF = "OFF"
    ON_DUE = "ON_DUE"  # to be switched on at the partner
    ON = "ON"
    OFF_DUE = "OFF_DUE"  # to be switched off at the partner


class OffReason(StrEnum):
    """Why a function went off; the order is health.md's precedence for SuspendCard."""

    DEREGISTERED = "DEREGISTERED"
    CARD_DEAD = "CARD_DEAD"
    OPT_OUT = "OPT_OUT"
    REPLACED = "REPLACED"  # moved to the collected replacement card


#: Functions that a partner switches (the others are bookkeeping only).
PARTNER_FUNCTIONS = frozenset({Function.TRANSIT, Function.HEALTH})
#: bank.md 7: deregistration ends every function but financial and transit.
ENDED_BY_DEREGISTRATION = frozenset({Function.HEALTH, Function.INSURANCE, Function.DONATION})


def wanted_on_collection(
    function: Function, *, opt_transit: bool, opt_health: bool, registered: bool
) -> bool:
    """Whether ``function`` is switched on when a card is collected."""
    if function is Function.TRANSIT:
        return opt_transit  # a deregistered volunteer keeps transit (transit.md)
    if function is Function.HEALTH:
        return opt_health and registered
    return registered


def switch_on(function: Function, current: FunctionState) -> FunctionState:
    if current in (FunctionState.ON, FunctionState.ON_DUE):
        return current
    return FunctionState.ON_DUE if function in PARTNER_FUNCTIONS else FunctionState.ON


def switch_off(function: Function, current: FunctionState) -> FunctionState:
    """Off: a partner function that is on (or asked to be) must be told; otherwise plain off."""
    if current in (FunctionState.OFF, FunctionState.OFF_DUE):
        return current
    return FunctionState.OFF_DUE if function in PARTNER_FUNCTIONS else FunctionState.OFF
