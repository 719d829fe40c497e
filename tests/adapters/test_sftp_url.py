"""SFTP URL parsing and transport configuration (pure logic, no server)."""

from __future__ import annotations

import paramiko
import pytest

from adapters.sftp import SftpConfigError, SftpError, SftpTransport, SftpUrl, parse_sftp_url
from sandbox.sftp_server import generate_host_key


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "sftp://sva@sftp.bank.example:2222/exchange/sva",
            SftpUrl("sva", "sftp.bank.example", 2222, "/exchange/sva"),
        ),
        ("sftp://sva@10.0.0.5/exchange/", SftpUrl("sva", "10.0.0.5", 22, "/exchange")),
        ("sftp://bocsz@127.0.0.1:40022", SftpUrl("bocsz", "127.0.0.1", 40022, "")),
        ("sftp://bocsz@127.0.0.1:40022/", SftpUrl("bocsz", "127.0.0.1", 40022, "")),
        ("sftp://sva@h:22/~/partner/bank", SftpUrl("sva", "h", 22, "partner/bank")),
        ("sftp://sva@h/with%20space", SftpUrl("sva", "h", 22, "/with space")),
    ],
)
def test_valid_urls(url: str, expected: SftpUrl):
    assert parse_sftp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("", "is empty"),
        ("ftp://sva@h/x", "must start with sftp://"),
        ("h:22/x", "must start with sftp://"),
        ("sftp://h:22/x", "has no user"),
        ("sftp://sva:secret@h/x", "must not contain a password"),
        ("sftp://sva@:22/x", "has no host"),
        ("sftp://sva@h:99999/x", "not a valid URL"),
        ("sftp://sva@h:0/x", "port 0"),
        ("sftp://sva@h/x?mode=1", "query or fragment"),
        ("sftp://sva@h/x#frag", "query or fragment"),
        ("sftp://sva@h/a/../b", "invalid path"),
    ],
)
def test_bad_urls_name_the_setting(url: str, complaint: str):
    with pytest.raises(SftpConfigError, match=complaint) as err:
        parse_sftp_url(url, partner="bocsz")
    assert "SVCARD_PARTNER_BOCSZ_URL" in str(err.value)
    assert "secret" not in str(err.value)


def test_transport_needs_a_private_client_key_and_a_pinned_host_key():
    client = generate_host_key()
    public_only = paramiko.PKey.from_type_string(client.get_name(), client.asbytes())
    with pytest.raises(SftpConfigError, match="no pinned SFTP host key for SZT"):
        SftpTransport("sftp://szt@h/x", client, [], partner="SZT")
    with pytest.raises(SftpConfigError, match="private"):
        SftpTransport("sftp://szt@h/x", public_only, [client], partner="SZT")
    with pytest.raises(SftpConfigError, match="retry_attempts"):
        SftpTransport("sftp://szt@h/x", client, [client], retry_attempts=0)


def test_pinned_keys_from_a_known_hosts_style_set():
    key, other = generate_host_key(), generate_host_key()
    hk = paramiko.HostKeys()
    hk.add("[sftp.example]:2222", key.get_name(), key)
    hk.add("elsewhere.example", other.get_name(), other)
    t = SftpTransport("sftp://sva@sftp.example:2222/x", generate_host_key(), hk)
    assert [k.asbytes() for k in t._pinned] == [key.asbytes()]
    with pytest.raises(SftpConfigError, match="no pinned"):
        SftpTransport("sftp://sva@sftp.example:22/x", generate_host_key(), hk)


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "x\n", "a..b", "ORDER.txt.part"])
def test_unsafe_remote_names_refused(name: str):
    t = SftpTransport(
        "sftp://sva@127.0.0.1:1/x", generate_host_key(), [generate_host_key()], retry_attempts=1
    )
    with pytest.raises(SftpError, match="invalid remote file name"):
        t.upload(b"x", name)
