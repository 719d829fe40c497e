"""Small jobs that prove the queue works end to end (used by tests and `svcard jobs ping`)."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime


def ping(tag: str) -> dict[str, str]:
    """Return the tag and where and when it ran."""
    return {
        "tag": tag,
        "host": socket.gethostname(),
        "pid": str(os.getpid()),
        "at": datetime.now(UTC).isoformat(),
    }
