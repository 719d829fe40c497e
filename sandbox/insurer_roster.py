"""The insurer's roster desk: opens an uploaded INSROSTER with BOCINS's sandbox keys.

A ``roster_handler`` for :class:`sandbox.insurer_service.InsurerService`. The checks are
the ones every partner makes on SVA's files (partners/README.md, via
``sandbox.wire.receive``): E01 decrypt with BOCINS's key, E02 signature by SVA's pinned
signing certificate, E03 GB18030, E05 sender/receiver, E04 structure and name, then
record errors (E07, PARTIAL). A file of another type sent through UploadRoster, or a name
that is not an INSROSTER's, is E04: checked last, so a bad name never hides an E01-E05
(README "Envelope": the first failure in that order gives the code).
"""

from __future__ import annotations

import threading

from sandbox.insurer_service import ROSTER_NAME
from sandbox.wire import Party, Received, SvaCerts, receive


class RosterDesk:
    """Callable ``(file_name, content) -> (result, error_code, error_text)``.

    ``received`` keeps every file opened (records included) so tests and the demo can
    see what the insurer holds.
    """

    def __init__(self, me: Party, sva: SvaCerts) -> None:
        if me.partner != "BOCINS":
            raise ValueError("the roster desk opens files sent to BOCINS")
        self.me = me
        self.sva = sva
        self.received: dict[str, Received] = {}
        self._lock = threading.Lock()

    def __call__(self, file_name: str, content: bytes) -> tuple[str, str | None, str | None]:
        got = receive(file_name, content, self.me, self.sva)
        if got.status != "REJECTED":  # E01-E05 and the header's E04 passed: now the type's
            if got.file_type != "INSROSTER":
                got.status, got.code, got.text = "REJECTED", "E04", "not an INSROSTER file"
                got.records = []
            elif not ROSTER_NAME.fullmatch(file_name):
                got.status, got.code = "REJECTED", "E04"
                got.text = "file name is not INSROSTER_SVA_<date>_<seq>.txt.p7m"
                got.records = []
        with self._lock:
            self.received[file_name] = got
        return got.status, got.code, got.text or None
