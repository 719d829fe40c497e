"""The volunteer fund: the month's expected donations out, its booked donations in, over
SFTP (partners/fund.md)."""

from gateway.partners.registry import Partner, Scheduled, fetch_entry, send_entry

ID = "SZVF"

PARTNER = Partner(
    id=ID,
    name="Shenzhen Volunteer Service Fund",
    transport="sftp",
    channel="gateway.partners.fund.channels",
    record_types=("DONATIONEXP", "DONATION", "ACK"),
    schedule=(
        send_entry(ID, "0 3 3 * *", "fund.md: DONATIONEXP on the 3rd for the previous month"),
        fetch_entry(ID, "0 10 * * *", "fund.md: DONATION by the 10th; ACKs"),
        Scheduled(
            "szvf-send-late",
            "5 3 * * *",
            "jobs.donations.send_expected",
            {},
            "fund.md: a month whose SWIPE days completed after the 3rd goes as soon as it is complete; "
            "from the 3rd, a month held back raises an alert naming its missing days (every day until sent)",
        ),
        Scheduled(
            "szvf-donation-watch",
            "0 2 11 * *",
            "jobs.donations.check_donation_received",
            {},
            "fund.md: DONATION by the 10th; README.md: a missing expected file raises an alert",
        ),
    ),
)
