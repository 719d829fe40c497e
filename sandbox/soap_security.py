"""The partners' side of WS-Security UsernameToken (PasswordDigest), as health.md describes.

PasswordDigest = Base64(SHA-1(nonce + created + password)); ``created`` within five
minutes of the server clock; a nonce seen in the last ten minutes is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from lxml import etree

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
# A URI naming the token type, not a password.
_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_DIGEST = _PROFILE + "#PasswordDigest"  # noqa: S105

MAX_SKEW_SECONDS = 300
NONCE_MEMORY_SECONDS = 600


class SecurityRefused(Exception):
    """Answer with a SOAP Fault whose faultcode is ``wsse:<code>``."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


def password_digest(nonce: bytes, created: str, password: str) -> str:
    # SHA-1 is what the UsernameToken profile prescribes; it is not our choice.
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()  # noqa: S324


class UsernameTokenChecker:
    """Checks the UsernameToken of a request's SOAP header; thread safe.

    ``users`` maps username to password. ``clock`` returns the Unix time (tests may
    move it).
    """

    def __init__(self, users: Mapping[str, str], *, clock: Callable[[], float] = time.time) -> None:
        self.users = dict(users)
        self.clock = clock
        self._nonces: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def check(self, header: etree._Element | None) -> str:
        """Return the authenticated username, or raise :class:`SecurityRefused`."""
        token = None if header is None else header.find(f"{{{WSSE_NS}}}Security/{{{WSSE_NS}}}UsernameToken")
        if token is None:
            raise SecurityRefused("InvalidSecurity", "no wsse:Security/UsernameToken header")
        username = _text(token, f"{{{WSSE_NS}}}Username")
        password_el = token.find(f"{{{WSSE_NS}}}Password")
        nonce_text = _text(token, f"{{{WSSE_NS}}}Nonce")
        created = _text(token, f"{{{WSU_NS}}}Created")
        if password_el is None or not username or not nonce_text or not created:
            raise SecurityRefused(
                "InvalidSecurity", "UsernameToken needs Username, Password, Nonce and Created"
            )
        if password_el.get("Type") != PASSWORD_DIGEST:
            raise SecurityRefused("InvalidSecurity", "only PasswordDigest is accepted")
        try:
            nonce = base64.b64decode(nonce_text, validate=True)
        except (binascii.Error, ValueError):
            raise SecurityRefused("InvalidSecurity", "Nonce is not base64") from None
        expected_password = self.users.get(username)
        supplied = (password_el.text or "").strip()
        if expected_password is None or not hmac.compare_digest(
            password_digest(nonce, created, expected_password), supplied
        ):
            raise SecurityRefused("FailedAuthentication", "unknown user or wrong password digest")
        when = _parse_created(created)
        now = self.clock()
        if abs(now - when) > MAX_SKEW_SECONDS:
            raise SecurityRefused("MessageExpired", "Created is more than five minutes from the server clock")
        with self._lock:
            for old, seen in list(self._nonces.items()):
                if now - seen > NONCE_MEMORY_SECONDS:
                    del self._nonces[old]
            if nonce in self._nonces:
                raise SecurityRefused("FailedAuthentication", "nonce already used (replay)")
            self._nonces[nonce] = now
        return username


def _text(parent: etree._Element, tag: str) -> str:
    el = parent.find(tag)
    return (el.text or "").strip() if el is not None else ""


def _parse_created(created: str) -> float:
    try:
        value = datetime.fromisoformat(created)
    except ValueError:
        raise SecurityRefused("InvalidSecurity", "Created is not an xs:dateTime") from None
    if value.tzinfo is None:  # wsu:Created is UTC by definition
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
