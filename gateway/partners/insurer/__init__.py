"""The insurer (BOC Insurance Shenzhen): the daily insured roster, an envelope inside a SOAP
call, and claim look-ups checked against the cover (partners/insurer.md)."""

from gateway.partners.registry import Partner, Scheduled

ID = "BOCINS"

PARTNER = Partner(
    id=ID,
    name="BOC Insurance Shenzhen",
    transport="soap",
    client="adapters.insurer.client:InsurerClient",
    record_types=("INSROSTER",),
    schedule=(
        Scheduled(
            "bocins-roster",
            "0 3 * * *",
            "jobs.insurance.send_roster",
            {},
            "insurer.md: the insured roster (INSROSTER) every day at 03:00",
        ),
        Scheduled(
            "bocins-claims-sweep",
            "30 4 * * *",
            "jobs.insurance.sweep_claims",
            {},
            "insurer.md: claims whose status changed (statusTime filter), checked against the cover",
        ),
    ),
    resume_command="svcard insurance resume",
)
