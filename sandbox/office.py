"""What every sandbox back office shares: its folders, its state file, its ACKs.

A back office works on its partner folder (``inbox/`` holds what SVA sent, ``outbox/``
what the partner sends back) and keeps its own state in a small SQLite file. A day is
``intake(day)`` (open every new inbox file, acknowledge it in one ACK file, apply what was
accepted) followed by ``close_day(day)`` (the day's own work and files); ``run_day`` does
both, and closing a day already closed does nothing, so a rerun is harmless.

Inbound duplicates follow partners/README.md "Transport, SFTP" from the receiving side: a
name already received is skipped; a new name whose bytes or header match a received file
is acknowledged ``REJECTED``/``E06`` and not applied. SVA's ACKs for our files are
recorded; a file SVA rejected whole (anything but ``E06``) is sent again, unchanged, in
the next SEQ (at most ``MAX_RESENDS`` times), and nothing SVA accepted is ever sent again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sandbox.clock import at
from sandbox.wire import Outbox, Party, Received, SvaCerts, inbox_files, receive

log = logging.getLogger(__name__)
MAX_RESENDS = 2  # a file SVA rejects whole is sent again at most this many times

_SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, file_type TEXT, business_date TEXT, seq INTEGER,
    status TEXT NOT NULL, code TEXT, day TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS received_sha ON received (sha256);
CREATE TABLE IF NOT EXISTS sent (
    name TEXT PRIMARY KEY, file_type TEXT NOT NULL, business_date TEXT NOT NULL, seq INTEGER NOT NULL,
    sha256 TEXT NOT NULL, plain BLOB NOT NULL, ack_status TEXT, ack_code TEXT, resent_as TEXT,
    generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS closed (day TEXT PRIMARY KEY);
"""


class Office:
    """Base of the bank, transit and fund back offices.

    ``rates`` (a frozen dataclass of probabilities and delays) default to the class's
    ``default_rates``; ``added_columns`` are the columns of ``schema`` added since the first
    sandbox folders were made (table -> column -> declaration).
    """

    partner = ""
    data_types: frozenset[str] = frozenset()
    schema = ""
    default_rates: Any = None
    added_columns: dict[str, dict[str, str]] = {}

    def __init__(self, folder: Path, me: Party, sva: SvaCerts, *, seed: int = 0, rates: Any = None) -> None:
        self.folder = Path(folder)
        self.inbox = self.folder / "inbox"
        self.outbox_dir = self.folder / "outbox"
        for d in (self.inbox, self.outbox_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.me = me
        self.sva = sva
        self.seed = seed
        self.rates = rates if rates is not None else self.default_rates
        self.out = Outbox(self.outbox_dir, me, sva)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(
            self.folder.parent / f"{self.partner.lower()}.sqlite", check_same_thread=False
        )
        # WAL without a sync at each commit: the sandbox's state is a test fixture, not a ledger.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(_SCHEMA + self.schema)
        self._add_missing_columns("sent", {"generation": "INTEGER NOT NULL DEFAULT 0"})
        for table, columns in self.added_columns.items():
            self._add_missing_columns(table, columns)
        self.db.commit()

    def _add_missing_columns(self, table: str, columns: dict[str, str]) -> None:
        """A sandbox folder made by an older version keeps working (columns added since)."""
        have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
        for name, decl in columns.items():
            if name not in have:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- a day

    def run_day(self, day: date) -> None:
        """Intake then close ``day``: everything the partner does on that business date."""
        with self.lock:
            self.intake(day)
            self.close_day(day)

    def intake(self, day: date) -> list[Received]:
        """Open every new inbox file, apply what may be applied, acknowledge the data files
        in one ACK file of business date ``day``; the data files read, in name order."""
        with self.lock:
            got: list[Received] = []
            for path in inbox_files(self.inbox):
                if self.db.execute("SELECT 1 FROM received WHERE name = ?", (path.name,)).fetchone():
                    continue  # already received: skipped at listing
                r = self._receive_one(path, day)
                if r is not None:
                    got.append(r)
            for r in got:
                if r.applied and r.file_type in self.data_types:
                    self.apply(r, day)
            if got:
                self.out.write("ACK", day, [r.ack_record() for r in got], at(day, 6, 30))
            self.db.commit()
            return got

    def close_day(self, day: date) -> bool:
        """The day's own work and files, once per day; False if it was already closed."""
        with self.lock:
            key = day.isoformat()
            if self.db.execute("SELECT 1 FROM closed WHERE day = ?", (key,)).fetchone():
                return False
            self.work(day)
            self.db.execute("INSERT INTO closed (day) VALUES (?)", (key,))
            self.db.commit()
            return True

    def last_closed(self) -> date | None:
        row = self.db.execute("SELECT max(day) FROM closed").fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    # ---------------------------------------------------------------- hooks

    def apply(self, r: Received, day: date) -> None:
        """Apply one accepted (or partial) data file's good records."""
        raise NotImplementedError

    def work(self, day: date) -> None:
        """The day's own work and the files it writes."""
        raise NotImplementedError

    # ---------------------------------------------------------------- inbound

    def _receive_one(self, path: Path, day: date) -> Received | None:
        raw = path.read_bytes()
        r = receive(path.name, raw, self.me, self.sva)
        dup = self.db.execute("SELECT name FROM received WHERE sha256 = ?", (r.sha256,)).fetchone()
        if dup is None and r.file_type is not None:
            dup = self.db.execute(
                "SELECT name FROM received WHERE file_type = ? AND business_date = ? AND seq = ?",
                (r.file_type, r.business_date.isoformat() if r.business_date else None, r.seq),
            ).fetchone()
        if dup is not None:
            r.status, r.code, r.text = "REJECTED", "E06", "already received under another name"
            r.records, r.errors = [], []
        self.db.execute(
            "INSERT INTO received VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.name,
                r.sha256,
                r.file_type,
                r.business_date.isoformat() if r.business_date else None,
                r.seq,
                r.status,
                r.code,
                day.isoformat(),
            ),
        )
        log.info("%s received %s: %s %s", self.partner, r.name, r.status, r.code or "")
        if r.file_type == "ACK" and r.applied:
            self._apply_ack(r, day)
            return None  # an ACK is never acknowledged
        if r.file_type == "ACK" or r.name.startswith("ACK_"):
            return None  # not even a broken one: an ACK is never acknowledged
        return r

    def _apply_ack(self, r: Received, day: date) -> None:
        for _, rec in r.records:
            row = self.db.execute(
                "SELECT sha256, resent_as, generation FROM sent WHERE name = ?", (rec["original_file_name"],)
            ).fetchone()
            if row is None:
                log.warning("%s: ACK for a file we never sent: %s", self.partner, rec["original_file_name"])
                continue
            self.db.execute(
                "UPDATE sent SET ack_status = ?, ack_code = ? WHERE name = ?",
                (rec["status"], rec["error_code"], rec["original_file_name"]),
            )
            if rec["sha256"] != row[0]:
                log.warning(
                    "%s: ACK for %s names other bytes than we sent", self.partner, rec["original_file_name"]
                )
            if rec["status"] == "REJECTED" and rec["error_code"] != "E06" and row[1] is None:
                if row[2] < MAX_RESENDS:
                    self._resend(rec["original_file_name"], day, row[2] + 1)
                else:  # a partner stops and calls after a few tries; so does the sandbox
                    log.warning(
                        "%s: %s rejected again; not resent any more", self.partner, rec["original_file_name"]
                    )

    def _resend(self, name: str, day: date, generation: int) -> None:
        """A file SVA rejected whole was never received: the same records, next SEQ."""
        file_type, bdate_s, plain = self.db.execute(
            "SELECT file_type, business_date, plain FROM sent WHERE name = ?", (name,)
        ).fetchone()
        bdate = date.fromisoformat(bdate_s)
        plain = zlib.decompress(plain)
        seq = self.out.next_seq(file_type, bdate)
        head, _, rest = bytes(plain).partition(b"\r\n")
        fields = head.split(b"|")
        fields[6] = f"{seq:03d}".encode()
        fields[7] = f"{at(day, 7):%Y%m%d%H%M%S}".encode()
        new_plain = b"|".join(fields) + b"\r\n" + rest
        new_name = self.out.name(file_type, bdate, seq)
        sha = self.out.upload(new_name, new_plain)
        self._record_sent(new_name, file_type, bdate, seq, sha, new_plain, generation)
        self.db.execute("UPDATE sent SET resent_as = ? WHERE name = ?", (new_name, name))
        log.info("%s: %s rejected by SVA, sent again as %s", self.partner, name, new_name)

    # ---------------------------------------------------------------- outbound

    def send(self, file_type: str, day: date, records: list[dict], created: datetime) -> str:
        """Write one data file into the outbox and remember it (for SVA's ACK)."""
        seq = self.out.next_seq(file_type, day)
        name, sha, plain = self.out.write(file_type, day, records, created, seq)
        self._record_sent(name, file_type, day, seq, sha, plain)
        return name

    def send_lines(self, file_type: str, day: date, lines: list[str], total: int, created: datetime) -> str:
        name, sha, plain = self.out.write_lines(file_type, day, lines, total, created)
        self._record_sent(name, file_type, day, int(name.rsplit("_", 1)[1][:3]), sha, plain)
        return name

    def _record_sent(
        self, name: str, file_type: str, day: date, seq: int, sha: str, plain: bytes, generation: int = 0
    ) -> None:
        self.db.execute(
            "INSERT INTO sent (name, file_type, business_date, seq, sha256, plain, generation)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, file_type, day.isoformat(), seq, sha, zlib.compress(plain, 1), generation),
        )

    def sent_files(self) -> list[tuple[str, str | None, str | None]]:
        """(name, SVA's ACK status, code) of every data file sent, in name order."""
        return self.db.execute("SELECT name, ack_status, ack_code FROM sent ORDER BY name").fetchall()
