"""The bank's files (bank.md), as pure translation between schema records and domain
data: ``records`` builds CARDORDER/CARDREQ records and turns CARDRESULT/CARDSTATUS
records into lifecycle events in the order bank.md "Order across files" gives."""
