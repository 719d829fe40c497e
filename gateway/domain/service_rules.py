"""The rules of recorded service time: which card may be swiped, how long a session may
last, when a repeated swipe is the same swipe. Each refusal is a coded error, so the API
answers problem+json with its code (``CARD_LOST`` -> ``.../problems/card-lost``).

docs/decisions.md, "Service records where they happen (issue 14)". Plain Python: no I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.domain.errors import CodedError, Conflict, Invalid, NotFound
from gateway.domain.lifecycle import CardState

#: A terminal's swipe repeated within this window (same terminal, same volunteer, same
#: kind) is the same swipe: it answers as the first did and records nothing more. Card
#: readers resend when the answer is slow, and volunteers swipe twice when unsure.
REPEAT_WINDOW = timedelta(seconds=60)
#: A session longer than this is a forgotten check-out, not a day of service.
MAX_SESSION = timedelta(days=1)
#: A terminal's clock may run a little ahead of ours; more than this is a wrong clock.
CLOCK_TOLERANCE = timedelta(minutes=5)


class SwipeKind:
    CHECK_IN = "CHECK_IN"
    CHECK_OUT = "CHECK_OUT"
    TRAINING = "TRAINING"


# ------------------------------------------------------------------ refusals


class CardNotFound(CodedError, NotFound):
    CODE, FIELD = "CARD_NOT_FOUND", "card_id"


class CardLost(CodedError, Conflict):
    CODE, FIELD = "CARD_LOST", "card_id"


class CardClosed(CodedError, Conflict):
    CODE, FIELD = "CARD_CLOSED", "card_id"


class CardNotCollected(CodedError, Conflict):
    CODE, FIELD = "CARD_NOT_COLLECTED", "card_id"


class CardNotUsable(CodedError, Conflict):
    CODE, FIELD = "CARD_NOT_USABLE", "card_id"


class TerminalNotFound(CodedError, NotFound):
    CODE, FIELD = "TERMINAL_NOT_FOUND", "terminal_id"


class TerminalInactive(CodedError, Conflict):
    CODE, FIELD = "TERMINAL_INACTIVE", "terminal_id"


class PlaceRequired(CodedError, Invalid):
    CODE, FIELD = "PLACE_REQUIRED", "district"


class UnknownDistrict(CodedError, Invalid):
    CODE, FIELD = "UNKNOWN_DISTRICT", "district"


class SwipeInFuture(CodedError, Invalid):
    CODE, FIELD = "SWIPE_IN_FUTURE", "at"


class CheckOutBeforeCheckIn(CodedError, Invalid):
    CODE, FIELD = "CHECK_OUT_BEFORE_CHECK_IN", "check_out"


class SessionTooLong(CodedError, Invalid):
    CODE, FIELD = "SESSION_TOO_LONG", "check_out"


class SessionOverlap(CodedError, Conflict):
    CODE, FIELD = "SESSION_OVERLAP", "check_in"


# ------------------------------------------------------------------ rules

_CLOSED = frozenset({CardState.CUT_CLOSED, CardState.ACCOUNT_CLOSED})
_NOT_COLLECTED = frozenset({CardState.ORDERED, CardState.ACCEPTED, CardState.PRODUCED, CardState.NOTIFIED})


def card_refusal(state: str, loss_requested: bool, *, starting: bool) -> CodedError | None:
    """Why a card in ``state`` may not be swiped, or None.

    A card starts a session (or records a training) only when it is in use and no loss
    was reported, on the platform (``loss_requested``) or by the bank. A check-out
    (``starting=False``) only ends what the volunteer began, so it is refused only for a
    lost card: in a stranger's hands it must not end the volunteer's session; a card whose
    account was closed since check-in still ends it, rather than leave the session open.
    """
    if state == CardState.LOST or loss_requested:
        return CardLost("the card was reported lost")
    if not starting:
        return None
    if state in _CLOSED:
        return CardClosed("the card was cut, or its account closed")
    if state in _NOT_COLLECTED:
        return CardNotCollected("the card has not been collected yet")
    if state != CardState.IN_USE:
        return CardNotUsable(f"the card is {state}, not in use")
    return None


def check_swipe_time(at: datetime, now: datetime) -> None:
    """A swipe's instant: aware, and not ahead of our clock by more than the tolerance."""
    if at.tzinfo is None:
        raise Invalid("NAIVE_TIME", "the swipe's instant needs a time zone", "at")
    if at - now > CLOCK_TOLERANCE:
        raise SwipeInFuture("the swipe's instant is ahead of the gateway's clock: check the terminal's clock")


def check_session_end(check_in: datetime, check_out: datetime) -> int:
    """The minutes a session counts; refused when it ends before it began or lasts more
    than a day (the platform then checks it out at the real end, within the day)."""
    if check_out <= check_in:
        raise CheckOutBeforeCheckIn("check-out must be after check-in")
    if check_out - check_in > MAX_SESSION:
        raise SessionTooLong(
            "check-out more than a day after check-in: a forgotten check-out; "
            "the platform closes the session with the real end (within a day of check-in)"
        )
    return int((check_out - check_in).total_seconds() // 60)


def is_repeat(first: datetime, again: datetime) -> bool:
    """Whether ``again`` is the swipe at ``first`` repeated (either order: a terminal's
    resend may be stamped a little earlier)."""
    return abs(again - first) <= REPEAT_WINDOW
