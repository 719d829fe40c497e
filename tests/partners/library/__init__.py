"""A sixth file partner that exists only in the tests: the Shenzhen Library, which would
switch the card's lending function on for each official volunteer.

Everything about it is in this package — its declaration (below), its record types
(``records``), its channel (``channel``) and its sandbox server and back office
(``sandbox``) — and nothing outside it names it: the test proves that a partner is a unit.
"""

from gateway.partners.registry import Expected, Partner, Scheduled, sftp_settings

ID = "SZLIB"

PARTNER = Partner(
    id=ID,
    name="Shenzhen Library (test partner)",
    transport="sftp",
    settings=sftp_settings(ID),
    channel="tests.partners.library.channel",
    record_types=("LIBREQ", "LIBACK", "ACK"),
    schedule=(
        Scheduled(
            "szlib-send", "30 1 * * *", "jobs.exchange.send_scheduled", {"partner": ID}, "LIBREQ at 01:30"
        ),
        Scheduled(
            "szlib-fetch", "0 7 * * *", "jobs.exchange.fetch_and_process", {"partner": ID}, "LIBACK by 06:00"
        ),
        Scheduled(
            "szlib-expected",
            "0 8 * * *",
            "jobs.exchange.check_expected",
            {"partner": ID},
            "LIBACK two hours late",
        ),
    ),
    expected=(Expected("LIBACK", 0),),
)
