"""A sixth file partner that exists only in the tests: the Shenzhen Library, which would
switch the card's lending function on for each official volunteer.

Everything about it is in this package — its declaration (below), its record types
(``records``), its channel (``channel``) and its sandbox server and back office
(``sandbox``) — and nothing outside it names it: the test proves that a partner is a unit.
"""

from gateway.partners.registry import Expected, Partner, expected_entry, fetch_entry, send_entry

ID = "SZLIB"

PARTNER = Partner(
    id=ID,
    name="Shenzhen Library (test partner)",
    transport="sftp",
    channel="tests.partners.library.channel",
    record_types=("LIBREQ", "LIBACK", "ACK"),
    schedule=(
        send_entry(ID, "30 1 * * *", "LIBREQ at 01:30"),
        fetch_entry(ID, "0 7 * * *", "LIBACK by 06:00"),
        expected_entry(ID, "0 8 * * *", "LIBACK two hours late"),
    ),
    expected=(Expected("LIBACK", 0),),
)
