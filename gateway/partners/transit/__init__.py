"""Shenzhen Tong: the card's transit function switched on and off, over SFTP
(partners/transit.md)."""

from gateway.partners.registry import Expected, Partner, Scheduled, sftp_settings

ID = "SZT"

PARTNER = Partner(
    id=ID,
    name="Shenzhen Tong",
    transport="sftp",
    settings=sftp_settings(ID),
    channel="gateway.partners.transit.channels",
    record_types=("TRANSITREQ", "TRANSITACK", "ACK"),
    schedule=(
        Scheduled(
            "szt-send",
            "0 2 * * *",
            "jobs.exchange.send_scheduled",
            {"partner": ID},
            "transit.md: TRANSITREQ each day 02:00",
        ),
        Scheduled(
            "szt-fetch",
            "15 7,16 * * *",
            "jobs.exchange.fetch_and_process",
            {"partner": ID},
            "transit.md: TRANSITACK by 07:00; ACKs",
        ),
        Scheduled(
            "szt-expected",
            "0 9 * * *",
            "jobs.exchange.check_expected",
            {"partner": ID},
            "README.md: an expected file two hours past its deadline raises an alert",
        ),
    ),
    # transit.md: TRANSITACK each day by 07:00; checked at 09:00
    expected=(Expected("TRANSITACK", 0),),
)
