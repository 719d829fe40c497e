"""The sandbox's UsernameToken check (health.md: digest, five-minute skew, ten-minute nonce memory)."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime

import pytest
from lxml import etree

from sandbox.soap_security import (
    PASSWORD_DIGEST,
    WSSE_NS,
    WSU_NS,
    SecurityRefused,
    UsernameTokenChecker,
)

NOW = 1_800_000_000.0


def header(
    password: str = "pw", *, nonce: bytes | None = None, created: float = NOW, kind: str = PASSWORD_DIGEST
):
    nonce = nonce or os.urandom(16)
    stamp = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + stamp.encode() + password.encode()).digest()).decode()
    h = etree.Element("Header")
    token = etree.SubElement(etree.SubElement(h, f"{{{WSSE_NS}}}Security"), f"{{{WSSE_NS}}}UsernameToken")
    etree.SubElement(token, f"{{{WSSE_NS}}}Username").text = "sva"
    etree.SubElement(token, f"{{{WSSE_NS}}}Password", Type=kind).text = digest
    etree.SubElement(token, f"{{{WSSE_NS}}}Nonce").text = base64.b64encode(nonce).decode()
    etree.SubElement(token, f"{{{WSU_NS}}}Created").text = stamp
    return h


@pytest.fixture
def checker():
    clock = {"now": NOW}
    c = UsernameTokenChecker({"sva": "pw"}, clock=lambda: clock["now"])
    c.clock_state = clock
    return c


def refused_code(checker, h) -> str:
    with pytest.raises(SecurityRefused) as info:
        checker.check(h)
    return info.value.code


def test_correct_digest_is_accepted(checker):
    assert checker.check(header()) == "sva"


def test_wrong_password_fails_authentication(checker):
    assert refused_code(checker, header("wrong")) == "FailedAuthentication"


def test_missing_token_is_invalid_security(checker):
    assert refused_code(checker, None) == "InvalidSecurity"
    assert refused_code(checker, etree.Element("Header")) == "InvalidSecurity"


def test_plain_text_password_is_refused(checker):
    assert refused_code(checker, header(kind=PASSWORD_DIGEST.replace("Digest", "Text"))) == "InvalidSecurity"


@pytest.mark.parametrize("offset", [-301, 301])
def test_created_more_than_five_minutes_off_is_expired(checker, offset):
    assert refused_code(checker, header(created=NOW + offset)) == "MessageExpired"


def test_created_within_five_minutes_is_accepted(checker):
    assert checker.check(header(created=NOW - 299)) == "sva"


def test_nonce_seen_in_last_ten_minutes_is_refused(checker):
    nonce = os.urandom(16)
    checker.check(header(nonce=nonce))
    checker.clock_state["now"] = NOW + 280
    assert refused_code(checker, header(nonce=nonce, created=NOW + 280)) == "FailedAuthentication"


def test_nonce_is_forgotten_after_ten_minutes(checker):
    nonce = os.urandom(16)
    checker.check(header(nonce=nonce))
    checker.clock_state["now"] = NOW + 601
    assert checker.check(header(nonce=nonce, created=NOW + 601)) == "sva"
