"""Jobs of the Health Commission queue (health.md): plan and send what is due.

Safe to run twice and on many workers: requests are claimed with a lease, every attempt
of a request carries its stable requestId, and SZHC answers a repeated id once.
"""

from __future__ import annotations

from gateway.partners.health import service as health


def sync_health() -> list[str]:
    """Plan the requests the HEALTH functions call for and send what is due now."""
    return health.sync().lines()


def reconcile_health(all_cards: bool = False) -> list[str]:
    """health.md, Operations: compare our health-function states with QueryCard, for a
    sample (weekly) or for everyone; an alert per mismatch."""
    from gateway.partners.health import reconcile  # the SOAP client loads only here

    return reconcile.reconcile(sample=None if all_cards else reconcile.WEEKLY_SAMPLE).lines()
