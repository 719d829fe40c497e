"""The health commission: the card's health function enrolled and suspended over SOAP
(partners/health.md)."""

from gateway.partners.registry import Partner, Scheduled

ID = "SZHC"

PARTNER = Partner(
    id=ID,
    name="Shenzhen Health Commission",
    transport="soap",
    client="adapters.health.client:HealthCardClient",
    schedule=(
        Scheduled(
            "szhc-sync",
            "*/10 * * * *",
            "jobs.health.sync_health",
            {},
            "health.md: enrol/suspend requests sent with their requestId, retried with backoff",
        ),
        Scheduled(
            "szhc-reconcile",
            "0 5 * * 0",
            "jobs.health.reconcile_health",
            {},
            "health.md, Operations: QueryCard for reconciliation; a weekly sample, an alert per mismatch",
        ),
    ),
    resume_command="svcard health resume",
)
