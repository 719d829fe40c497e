"""Unit tests of the SOAP transport's configuration rules (no server needed)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from adapters.health.client import BINDING, WSDL
from adapters.soap import (
    RetryPolicy,
    SoapClient,
    SoapConfigError,
    SoapEndpoint,
    aware,
    check_url,
)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8702/soap", "http://localhost/x", "http://[::1]:80/x"])
def test_plain_http_allowed_to_loopback(url):
    check_url(url)


@pytest.mark.parametrize("url", ["http://10.0.0.5/soap", "http://szhc.example.cn/soap", "http://0.0.0.0/x"])
def test_plain_http_to_remote_host_is_refused(url):
    with pytest.raises(SoapConfigError, match="https"):
        check_url(url)


@pytest.mark.parametrize("url", ["ftp://host/x", "https://user:pw@host/x", "not a url"])
def test_other_urls_are_refused(url):
    with pytest.raises(SoapConfigError):
        check_url(url)


def test_https_endpoint_needs_an_existing_ca_bundle(tmp_path):
    with pytest.raises(SoapConfigError, match="CA bundle"):
        SoapEndpoint("https://szhc.example.cn/soap", "u", "p", ca_bundle=tmp_path / "missing.pem")


def test_endpoint_repr_hides_password():
    assert "s3cret" not in repr(SoapEndpoint("http://127.0.0.1/x", "u", "s3cret"))


def test_backoff_doubles_and_is_capped():
    policy = RetryPolicy(attempts=6, base_delay=1.0, max_delay=5.0)
    delays = [policy.delay(n) for n in range(1, 6)]
    assert 0.8 <= delays[0] <= 1.2 and 1.6 <= delays[1] <= 2.4 and 3.2 <= delays[2] <= 4.8
    assert all(d <= 6.0 for d in delays[3:])


def test_datetime_without_offset_is_read_as_beijing_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="adapters.soap"):
        value = aware(datetime(2027, 1, 1, 8, 0), operation="QueryCard", field_name="since")
    assert value.utcoffset() == timedelta(hours=8)
    assert "since has no UTC offset" in caplog.text


def test_wsdl_loads_from_local_file_without_network(monkeypatch):
    # Any attempt to reach the network while building the client fails the test.
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("network access while loading the WSDL")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    client = SoapClient(WSDL, BINDING, SoapEndpoint("http://127.0.0.1:9/soap", "u", "p"))
    client.close()
