"""The bank (Bank of China Shenzhen Branch): card orders and requests out, results, card
events and swipes in, every file over SFTP (partners/bank.md)."""

from gateway.partners.registry import Expected, Partner, expected_entry, fetch_entry, send_entry

ID = "BOCSZ"

PARTNER = Partner(
    id=ID,
    name="Bank of China Shenzhen Branch",
    transport="sftp",
    channel="gateway.partners.bank.channels",
    record_types=("CARDORDER", "CARDREQ", "CARDRESULT", "CARDSTATUS", "SWIPE", "ACK"),
    schedule=(
        send_entry(ID, "0 1 * * *", "bank.md: CARDORDER each working day 01:00, CARDREQ each day 01:00"),
        fetch_entry(ID, "15 6 * * *", "bank.md: CARDRESULT, CARDSTATUS, SWIPE by 06:00; ACKs back"),
        fetch_entry(
            ID, "0 11,16 * * *", "late deliveries and the bank's ACKs of our 01:00 files", "bocsz-fetch-late"
        ),
        expected_entry(ID, "0 8 * * *"),
    ),
    # bank.md: by 06:00, for the previous (working) day; checked at 08:00
    expected=(
        Expected("CARDRESULT", -1, working_days_only=True),
        Expected("CARDSTATUS", -1),
        Expected("SWIPE", -1),
    ),
)
