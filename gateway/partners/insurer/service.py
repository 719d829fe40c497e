"""BOC Insurance (insurer.md), what its callers use: the daily INSROSTER snapshot
(``roster``), claim look-ups, the daily sweep of changed claims and the cover check of
every APPROVED or PAID claim (``claims``), and the security stop on calls (``stop``).

Each takes the caller's ``Ports`` (a job's, a command's, a view's; the insurer's client
is ``ports.client(ID)``) or, for one transaction, its ``Session``.
"""

from gateway.partners.insurer.claims import (
    CACHE_SECONDS,
    ClaimView,
    SweepReport,
    check_volunteer,
    clear_cache,
    flagged_claims,
    format_claim,
    lookup_claims,
    store_claims,
    stored_claim_count,
    stored_claims,
    sweep_claims,
)
from gateway.partners.insurer.roster import (
    FILE_TYPE,
    ROSTER_ALERT,
    ROSTER_ANSWER_ALERT,
    RosterReport,
    roster_records,
    send_roster,
)
from gateway.partners.insurer.stop import SECURITY_ALERT, InsurerStopped, resume, stopped_by

__all__ = [
    "CACHE_SECONDS",
    "FILE_TYPE",
    "ROSTER_ALERT",
    "ROSTER_ANSWER_ALERT",
    "SECURITY_ALERT",
    "ClaimView",
    "InsurerStopped",
    "RosterReport",
    "SweepReport",
    "check_volunteer",
    "clear_cache",
    "flagged_claims",
    "format_claim",
    "lookup_claims",
    "resume",
    "roster_records",
    "send_roster",
    "store_claims",
    "stored_claim_count",
    "stored_claims",
    "stopped_by",
    "sweep_claims",
]
