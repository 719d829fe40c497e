"""What is dropped, and when: the tables that would otherwise grow without end.

Only the idempotency records are purged here (``purge_idempotency``): a key answers its
repeats for ``IDEMPOTENCY_WINDOW`` at least, then goes, a batch at a time so a purge never
holds a long transaction on a busy API table. The other growing tables and how long they
are kept are listed in docs/deploy.md ("Retention"); most are records an auditor may ask
for, kept until an archive-and-detach step exists for them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.models.api import IdempotencyRecord

# A platform retries within minutes and a terminal's queue within a day; a week covers a
# client that was down over a long holiday weekend (the Spring Festival's is seven days).
IDEMPOTENCY_WINDOW = timedelta(days=7)
BATCH = 5_000


def purge_idempotency(session: Session, now: datetime, *, batch: int = BATCH) -> int:
    """Delete the idempotency records older than the window, in batches of ``batch``
    (each flushed, so the caller may commit between); answers how many went."""
    cutoff = now - IDEMPOTENCY_WINDOW
    purged = 0
    while True:
        ids = session.scalars(
            select(IdempotencyRecord.id).where(IdempotencyRecord.created_at < cutoff).limit(batch)
        ).all()
        if not ids:
            return purged
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids)))
        session.flush()
        purged += len(ids)
