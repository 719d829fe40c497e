"""The bank (Bank of China Shenzhen Branch): card orders and requests out, results, card
events and swipes in, every file over SFTP (partners/bank.md)."""

from gateway.partners.registry import Expected, Partner, Scheduled, sftp_settings

ID = "BOCSZ"

PARTNER = Partner(
    id=ID,
    name="Bank of China Shenzhen Branch",
    transport="sftp",
    settings=sftp_settings(ID),
    channel="gateway.partners.bank.channels",
    record_types=("CARDORDER", "CARDREQ", "CARDRESULT", "CARDSTATUS", "SWIPE", "ACK"),
    schedule=(
        Scheduled(
            "bocsz-send",
            "0 1 * * *",
            "jobs.exchange.send_scheduled",
            {"partner": ID},
            "bank.md: CARDORDER each working day 01:00, CARDREQ each day 01:00",
        ),
        Scheduled(
            "bocsz-fetch",
            "15 6 * * *",
            "jobs.exchange.fetch_and_process",
            {"partner": ID},
            "bank.md: CARDRESULT, CARDSTATUS, SWIPE by 06:00; ACKs back",
        ),
        Scheduled(
            "bocsz-fetch-late",
            "0 11,16 * * *",
            "jobs.exchange.fetch_and_process",
            {"partner": ID},
            "late deliveries and the bank's ACKs of our 01:00 files",
        ),
        Scheduled(
            "bocsz-expected",
            "0 8 * * *",
            "jobs.exchange.check_expected",
            {"partner": ID},
            "README.md: an expected file two hours past its deadline raises an alert",
        ),
    ),
    # bank.md: by 06:00, for the previous (working) day; checked at 08:00
    expected=(
        Expected("CARDRESULT", -1, working_days_only=True),
        Expected("CARDSTATUS", -1),
        Expected("SWIPE", -1),
    ),
)
