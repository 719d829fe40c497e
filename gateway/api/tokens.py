"""Bearer tokens: created with a role and a name, shown once, stored only as SHA-256.

A token is 32 random bytes (``svc_`` + URL-safe base64), so a plain, unsalted SHA-256 is
enough: it cannot be brute-forced, and it lets the API find a token by its hash.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models.api import ROLES, ApiToken
from gateway.timeutil import utcnow

PREFIX = "svc_"


class TokenError(ValueError):
    """A token command cannot be done; the message says why."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, *, name: str, role: str) -> tuple[ApiToken, str]:
    """A new token; returns the row and the token itself (never stored, never shown again)."""
    if role not in ROLES:
        raise TokenError(f"role {role!r} is not one of {', '.join(ROLES)}")
    name = name.strip()
    if not 1 <= len(name) <= 64 or name.isdigit():
        raise TokenError("name must be 1-64 characters and not only digits (digits mean an id)")
    if session.scalar(select(ApiToken).where(ApiToken.name == name)) is not None:
        raise TokenError(f"a token named {name!r} exists already (names are never reused)")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, role=role, token_hash=hash_token(token), created_at=utcnow())
    session.add(row)
    session.flush()
    return row, token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def find(session: Session, name_or_id: str) -> ApiToken:
    if name_or_id.isdigit():
        row = session.get(ApiToken, int(name_or_id))
    else:
        row = session.scalar(select(ApiToken).where(ApiToken.name == name_or_id))
    if row is None:
        raise TokenError(f"no token {name_or_id!r}")
    return row


def revoke_token(session: Session, name_or_id: str) -> ApiToken:
    """Revoke by name or id; revoking a revoked token changes nothing."""
    row = find(session, name_or_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def authenticate(session: Session, token: str) -> ApiToken | None:
    """The live token row for ``token``, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    return row
