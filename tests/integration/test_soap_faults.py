"""Failure handling of the SOAP transport over real HTTP (health.md "Faults and failures")."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from adapters.health.client import HealthCardClient
from adapters.soap import (
    ClientFault,
    ProtocolError,
    RetryableError,
    RetryPolicy,
    SecurityFault,
    SoapEndpoint,
    UnsafeXmlError,
)
from sandbox.health_service import HealthCardService
from sandbox.soap_server import SoapServer

USER, PASSWORD = "sva", "sandbox-pw"
PERSON = ("2026000001", "RIC", "440301199001011234", "Zhang San", "CARD-1")


@pytest.fixture
def service():
    return HealthCardService({USER: PASSWORD}, seed=3)


@pytest.fixture
def server(service):
    with SoapServer({"/soap/healthcard": service}) as srv:
        yield srv


def make_client(
    url: str, *, password: str = PASSWORD, timeout: float = 2, attempts: int = 4, sleep=None, ca=None
):
    endpoint = SoapEndpoint(
        url, USER, password, timeout=timeout, ca_bundle=ca, retry=RetryPolicy(attempts, 0.01)
    )
    return HealthCardClient(endpoint, sleep=sleep or (lambda _: None))


def rid() -> str:
    return uuid.uuid4().hex[:20]


def test_service_down_then_up_delivers_the_request_once(server, service):
    url = server.url()
    server.stop()  # connection refused from now on

    def back_up(_delay: float) -> None:
        server.start()  # comes back on the same port during the first backoff

    client = make_client(url, sleep=back_up)
    request_id = rid()
    result = client.enroll_card(request_id, *PERSON)
    assert result.result == "OK"
    assert service.applied[request_id] == 1


def test_maintenance_503_then_available_delivers_once(server, service):
    service.available = False
    waits = []

    def wait(delay: float) -> None:
        waits.append(delay)
        if len(waits) == 2:
            service.available = True

    request_id = rid()
    assert make_client(server.url(), sleep=wait).enroll_card(request_id, *PERSON).result == "OK"
    assert len(waits) == 2 and waits[1] > waits[0]  # backoff grows
    assert service.applied[request_id] == 1


def test_server_fault_is_retried_with_the_same_request_id(server, service):
    # The faulted attempts passed the security check, so their nonces are remembered:
    # the retries succeed only because each carries a fresh nonce.
    service.inject_server_faults(2)
    request_id = rid()
    first = make_client(server.url()).enroll_card(request_id, *PERSON)
    assert first.result == "OK"
    assert service.applied[request_id] == 1
    assert service.calls["EnrollCard"] == 1  # the two faulted attempts were not applied


def test_retryable_failure_gives_up_after_the_configured_attempts(server, service):
    service.available = False
    with pytest.raises(RetryableError) as info:
        make_client(server.url(), attempts=3).enroll_card(rid(), *PERSON)
    assert info.value.attempts == 3 and "HTTP 503" in str(info.value)


def test_slow_answer_past_timeout_is_retried_and_applied_once(server, service):
    service.inject_delays(1, 1.0)  # first attempt applied, answered after the client gave up
    request_id = rid()
    started = time.monotonic()
    result = make_client(server.url(), timeout=0.3).enroll_card(request_id, *PERSON)
    assert result.result == "OK" and result.health_card_no
    assert time.monotonic() - started < 1.0
    assert service.calls["EnrollCard"] == 2  # two deliveries ...
    assert service.applied[request_id] == 1  # ... one effect


def test_always_slow_service_ends_in_retryable_timeout(server, service):
    service.delay_seconds = 0.4
    with pytest.raises(RetryableError, match="timeout"):
        make_client(server.url(), timeout=0.15, attempts=2).query_card("440300000000000000")


def test_client_fault_is_not_retried(server, service):
    request_id = rid()
    make_client(server.url()).enroll_card(request_id, *PERSON)
    with pytest.raises(ClientFault, match="already used for EnrollCard"):
        make_client(server.url()).suspend_card(request_id, "440300000000000000", "OPT_OUT")
    assert service.calls["SuspendCard"] == 1


def test_wrong_password_is_security_fault_without_retry(server, service):
    with pytest.raises(SecurityFault, match="FailedAuthentication"):
        make_client(server.url(), password="wrong").enroll_card(rid(), *PERSON)
    assert service.refused["FailedAuthentication"] == 1
    assert service.calls["EnrollCard"] == 0


def test_message_expired_is_retried_once_with_a_fresh_header(service):
    # The partner's clock runs 10 minutes ahead for exactly one check.
    skews = [600.0]
    service.security.clock = lambda: time.time() + (skews.pop() if skews else 0.0)
    with SoapServer({"/soap/healthcard": service}) as srv:
        assert make_client(srv.url(), attempts=1).enroll_card(rid(), *PERSON).result == "OK"
    assert service.refused["MessageExpired"] == 1


def test_message_expired_twice_is_security_fault(service):
    service.security.clock = lambda: time.time() + 600
    with SoapServer({"/soap/healthcard": service}) as srv, pytest.raises(SecurityFault, match="expired"):
        make_client(srv.url()).enroll_card(rid(), *PERSON)
    assert service.refused["MessageExpired"] == 2


# -- a tiny hostile server ------------------------------------------------------------------


class Evil:
    """An HTTP server that answers every POST with a fixed status and body."""

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/xml; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.hits = 0
        evil = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                evil.hits += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/soap/healthcard"

    def __enter__(self) -> Evil:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


ANSWER = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    '<EnrollCardResponse xmlns="urn:szhc:healthcard:v1"><result>OK</result>'
    "<healthCardNo>{number}</healthCardNo></EnrollCardResponse></soap:Body></soap:Envelope>"
)

HOSTILE = {
    "internal entity": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY n "440300000000000000">]>'
    + ANSWER.format(number="&n;"),
    "billion laughs": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    + ANSWER.format(number="&b;"),
    "external entity": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    + ANSWER.format(number="&e;"),
    "bare doctype": '<?xml version="1.0"?><!DOCTYPE soap:Envelope SYSTEM "http://evil.example/x.dtd">'
    + ANSWER.format(number="440300000000000000"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_answer_with_dtd_or_entity_is_refused_and_logged(name, caplog):
    with Evil(200, HOSTILE[name].encode()) as evil:
        with pytest.raises(UnsafeXmlError, match="refused"):
            make_client(evil.url).enroll_card(rid(), *PERSON)
        assert evil.hits == 1  # not retried
    assert "unsafe XML" in caplog.text


def test_http_401_is_security_fault():
    with Evil(401, b"", "text/plain") as evil:
        with pytest.raises(SecurityFault, match="HTTP 401"):
            make_client(evil.url).enroll_card(rid(), *PERSON)
        assert evil.hits == 1


def test_http_502_html_page_is_retried():
    with Evil(502, b"<html><body>Bad gateway</body></html>", "text/html") as evil:
        with pytest.raises(RetryableError, match="HTTP 502"):
            make_client(evil.url, attempts=3).enroll_card(rid(), *PERSON)
        assert evil.hits == 3


def test_answer_not_matching_the_wsdl_is_protocol_error():
    wrong = ANSWER.replace("<result>OK</result>", "<result>OK</result><surprise>1</surprise>")
    with Evil(200, wrong.format(number="1").encode()) as evil:
        with pytest.raises(ProtocolError):
            make_client(evil.url).enroll_card(rid(), *PERSON)
        assert evil.hits == 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_is_not_followed(status):
    # A redirect would carry the request (PII, WS-Security digest) to a host and scheme
    # that check_url never saw: plain http:// to anywhere, or around the pinned certificate.
    with Evil(200, ANSWER.format(number="440300000000000001").encode()) as elsewhere:
        with Evil(status, b"", "text/plain", {"Location": elsewhere.url}) as evil:
            with pytest.raises(ProtocolError, match=f"HTTP {status}"):
                make_client(evil.url).enroll_card(rid(), *PERSON)
            assert evil.hits == 1
        assert elsewhere.hits == 0


# -- HTTPS with a pinned certificate --------------------------------------------------------


def self_signed(tmp_path, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


def test_https_verified_against_pinned_certificate(tmp_path, service):
    # A self-signed server certificate (not a CA) pinned as the trust anchor.
    cert, key = self_signed(tmp_path, "szhc")
    other, _ = self_signed(tmp_path, "other")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with SoapServer({"/soap/healthcard": service}, ssl_context=context) as srv:
        assert srv.url().startswith("https://")
        assert make_client(srv.url(), ca=cert).enroll_card(rid(), *PERSON).result == "OK"
        with pytest.raises(SecurityFault, match="TLS"):
            make_client(srv.url(), ca=other).enroll_card(rid(), *PERSON)
    assert service.calls["EnrollCard"] == 1
