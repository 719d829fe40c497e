"""The library's side of the wire: an SFTP account on the sandbox's own server and a back
office (``sandbox.office.Office``) that answers every LIBREQ with a LIBACK the same day.
Like the sandbox, it uses only ``sandbox``, ``schemas`` and ``keys``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sandbox.clock import at
from sandbox.office import Office
from sandbox.sftp_server import SandboxSftpServer
from sandbox.wire import Received
from tests.partners.library import ID

#: volunteer numbers whose request the library fails (an operator must hear of it)
REFUSED_SUFFIX = "9"


class LibraryOffice(Office):
    partner = ID
    data_types = frozenset({"LIBREQ"})
    schema = "CREATE TABLE IF NOT EXISTS asked (request_id TEXT PRIMARY KEY, volunteer_no TEXT, day TEXT);"

    def apply(self, r: Received, day: date) -> None:
        for _, rec in r.records:
            self.db.execute(
                "INSERT OR IGNORE INTO asked VALUES (?, ?, ?)",
                (rec["request_id"], rec["volunteer_no"], day.isoformat()),
            )

    def work(self, day: date) -> None:
        rows = self.db.execute(
            "SELECT request_id, volunteer_no FROM asked WHERE day = ?", (day.isoformat(),)
        ).fetchall()
        answers = [
            {
                "request_id": rid,
                "result": "FAILED" if number.endswith(REFUSED_SUFFIX) else "OK",
                "processed_date": day,
            }
            for rid, number in rows
        ]
        self.send("LIBACK", day, answers, at(day, 5, 30))


def sftp_server(root: Path, client_key) -> SandboxSftpServer:
    """The library's SFTP account (user ``szlib``) on a loopback port of its own."""
    return SandboxSftpServer(root, [client_key], partners=(ID,))
