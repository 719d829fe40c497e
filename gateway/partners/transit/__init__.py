"""Shenzhen Tong: the card's transit function switched on and off, over SFTP
(partners/transit.md)."""

from gateway.partners.registry import Expected, Partner, expected_entry, fetch_entry, send_entry

ID = "SZT"

PARTNER = Partner(
    id=ID,
    name="Shenzhen Tong",
    transport="sftp",
    channel="gateway.partners.transit.channels",
    record_types=("TRANSITREQ", "TRANSITACK", "ACK"),
    schedule=(
        send_entry(ID, "0 2 * * *", "transit.md: TRANSITREQ each day 02:00"),
        fetch_entry(ID, "15 7,16 * * *", "transit.md: TRANSITACK by 07:00; ACKs"),
        expected_entry(ID, "0 9 * * *"),
    ),
    # transit.md: TRANSITACK each day by 07:00; checked at 09:00
    expected=(Expected("TRANSITACK", 0),),
)
