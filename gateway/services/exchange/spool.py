"""The engine's spool: where a file waits on local disk between the wire and the archive
(``<spool_dir>/out/<partner>``: sealed for upload; ``<spool_dir>/in/<partner>``: just
downloaded). The archive keeps every file; the spool is only a working folder."""

from __future__ import annotations

from pathlib import Path

from gateway.services.ports import Ports


def spool(ports: Ports, kind: str, partner: str) -> Path:
    """The partner's spool folder of ``kind`` (``in`` or ``out``), created if need be."""
    path = ports.settings.spool_dir / kind / partner
    path.mkdir(parents=True, exist_ok=True)
    return path
