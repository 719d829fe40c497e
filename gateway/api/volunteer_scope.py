"""The volunteer scope: short-lived tokens bound to one volunteer (信息查询).

The platform, for a volunteer signed in on its side, asks
``POST /api/volunteers/{number}/view-token`` with its own token and hands the answer's
``svv_`` token to the volunteer's session. That token:

- reads only the routes declared for the ``volunteer`` scope (``/api/me/...``), and only
  that volunteer's records: every other route answers 404, as for a path that does not
  exist — never 403, which would tell that the route and its records are there;
- expires (``LIFETIME`` by default, at most ``MAX_LIFETIME``) and can be revoked by
  revoking the platform token that issued it;
- is rate-limited (``RATE`` requests a minute, counted in the database, so every API
  process shares the count): over it, 429 with ``Retry-After``;
- is audited: each read is a row of the audit log under the issuing platform token, with
  the volunteer as its subject.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ApiToken, VolunteerViewToken
from gateway.timeutil import utcnow

PREFIX = "svv_"
LIFETIME = timedelta(minutes=30)  # a sign-in session on the platform
MAX_LIFETIME = timedelta(hours=2)
RATE = 60  # requests a minute per token
WINDOW = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(
    session: Session, volunteer_id: int, issuer: int, lifetime: timedelta = LIFETIME
) -> tuple[VolunteerViewToken, str]:
    lifetime = min(lifetime, MAX_LIFETIME)
    token = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = VolunteerViewToken(token_hash=_hash(token), volunteer_id=volunteer_id, issued_by=issuer,
                             created_at=now, expires_at=now + lifetime, window_count=0)  # fmt: skip
    session.add(row)
    session.flush()
    return row, token


def authenticate(session: Session, token: str) -> VolunteerViewToken | None:
    """The live token (not expired, not revoked, its issuer not revoked), or None."""
    row = session.scalar(select(VolunteerViewToken).where(VolunteerViewToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    issuer = session.get(ApiToken, row.issued_by)
    if issuer is None or issuer.revoked_at is not None:
        return None
    return row


def over_rate(session: Session, token_id: int) -> int | None:
    """Count this request; the seconds to wait when the token is over its rate, else None.
    Its own transaction (the caller's): a refused request is counted too. The row is locked
    for the update on PostgreSQL, so two processes count one each."""
    locked = session.scalar(
        select(VolunteerViewToken).where(VolunteerViewToken.id == token_id).with_for_update()
    )
    now = utcnow()
    if locked.window_start is None or now - locked.window_start >= WINDOW:
        locked.window_start, locked.window_count = now, 0
    locked.window_count += 1
    session.flush()
    if locked.window_count > RATE:
        return max(1, int((locked.window_start + WINDOW - now).total_seconds()) + 1)
    return None
