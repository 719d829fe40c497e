"""SOAP 1.1 transport for the SOAP partners (health.md, insurer.md), built on zeep.

One :class:`SoapClient` per partner endpoint. It loads the partner's WSDL from the local
file the project keeps (nothing is fetched over the network), points the binding at the
configured URL, signs every attempt with a fresh WS-Security UsernameToken
(PasswordDigest, new nonce and created time), parses answers with DTDs, entities and
external references forbidden, and maps every failure onto the small error family below
so callers decide retry / stop / operator without knowing zeep:

==========================  =======================================  ===================
what happened               error                                    retried here?
==========================  =======================================  ===================
faultcode ``Client``        :class:`ClientFault`                     no
faultcode ``Server``,       :class:`RetryableError` (after the last  yes, with backoff,
HTTP 5xx, timeout,          attempt)                                 same arguments
connection error
``wsse:MessageExpired``     retried once, then :class:`SecurityFault`  once
other WS-Security fault,    :class:`SecurityFault`                   no
HTTP 401/403, TLS failure
answer with DTD / entity    :class:`UnsafeXmlError`                  no
answer not SOAP as agreed   :class:`ProtocolError`                   no
==========================  =======================================  ===================

Answers leave as plain Python values (dicts, lists, str, int, datetime), never zeep
objects. This module imports nothing of the gateway: endpoint, credentials, timeouts and
retry parameters are plain arguments. A client holds a ``requests.Session``: use one
client per thread.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
import zeep
import zeep.exceptions
import zeep.helpers
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from schemas.fields import BEIJING

log = logging.getLogger(__name__)

WSDL_DIR = Path(__file__).resolve().parent / "wsdl"

# Local names of the WS-Security fault codes (OASIS WSS 1.0, section 12).
_WSSE_RETRY_ONCE = {"MessageExpired"}
_WSSE_FAULTS = {
    "FailedAuthentication",
    "InvalidSecurity",
    "InvalidSecurityToken",
    "UnsupportedSecurityToken",
    "UnsupportedAlgorithm",
    "FailedCheck",
    "SecurityTokenUnavailable",
    "MessageExpired",
}


class SoapError(Exception):
    """Base of every error this transport raises; ``code`` is stable, for logs and alerts."""

    code = "SOAP"

    def __init__(self, message: str, *, operation: str = "", fault_code: str = "") -> None:
        super().__init__(message)
        self.operation = operation
        self.fault_code = fault_code


class SoapConfigError(SoapError, ValueError):
    """The endpoint configuration is unsafe or wrong (e.g. plain HTTP to a remote host)."""

    code = "SOAP_CONFIG"


class ClientFault(SoapError):
    """The partner says the request was wrong (faultcode ``Client``): do not retry."""

    code = "SOAP_CLIENT_FAULT"


class RetryableError(SoapError):
    """Server fault, HTTP 5xx, timeout or connection error that outlived every attempt.

    The request may or may not have been applied; send it again later with the same
    ``requestId``. ``attempts`` is how many were made.
    """

    code = "SOAP_RETRYABLE"

    def __init__(self, message: str, *, operation: str = "", fault_code: str = "", attempts: int = 1):
        super().__init__(message, operation=operation, fault_code=fault_code)
        self.attempts = attempts


class SecurityFault(SoapError):
    """WS-Security fault, HTTP 401/403 or TLS verification failure: stop calling, alert."""

    code = "SOAP_SECURITY"


class UnsafeXmlError(SoapError):
    """The answer carried a DTD, an entity or an external reference and was refused."""

    code = "SOAP_UNSAFE_XML"


class ProtocolError(SoapError):
    """The answer was not the SOAP the WSDL describes (bad XML, wrong elements)."""

    code = "SOAP_PROTOCOL"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base_delay * 2**n`` capped at ``max_delay``, with ±20 % jitter."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise SoapConfigError("retry: attempts must be >= 1 and delays >= 0")

    def delay(self, failed_attempts: int) -> float:
        raw = min(self.max_delay, self.base_delay * 2 ** (failed_attempts - 1))
        return raw * random.uniform(0.8, 1.2)


@dataclass(frozen=True)
class SoapEndpoint:
    """Where and how to reach one partner service.

    ``timeout`` is the read timeout; ``connect_timeout`` defaults to the smaller of it
    and 10 s. ``ca_bundle`` is a CA bundle or the partner's pinned certificate (PEM);
    without it HTTPS is verified against the system trust store.
    """

    url: str
    username: str
    password: str = field(repr=False)
    timeout: float = 30.0
    connect_timeout: float | None = None
    ca_bundle: Path | str | None = None
    retry: RetryPolicy = RetryPolicy()

    def __post_init__(self) -> None:
        check_url(self.url)
        if self.ca_bundle is not None and not Path(self.ca_bundle).is_file():
            raise SoapConfigError(f"SOAP CA bundle {self.ca_bundle} is not a readable file")
        if self.timeout <= 0:
            raise SoapConfigError("SOAP timeout must be positive")
        if not self.username or not self.password:
            raise SoapConfigError(f"SOAP endpoint {self.url}: username and password are required")

    @property
    def timeouts(self) -> tuple[float, float]:
        connect = self.connect_timeout if self.connect_timeout is not None else min(self.timeout, 10.0)
        return (connect, self.timeout)


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> None:
    """Refuse anything but HTTPS, or plain HTTP to a loopback host (the sandbox)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SoapConfigError(f"SOAP URL must be http(s)://host/...; got scheme {parts.scheme!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise SoapConfigError(
            f"plain http:// is allowed only to a loopback sandbox; {parts.hostname} needs https://"
        )
    if parts.username or parts.password:
        raise SoapConfigError("SOAP URL must not carry credentials; use the username/password settings")


class _QuietTransport(Transport):
    """zeep's Transport logs whole envelopes at DEBUG (PII, digests): post without that."""

    def post(self, address: str, message: Any, headers: dict[str, str]) -> requests.Response:
        # Never follow a redirect: it would take the request (PII, the WS-Security digest)
        # to a host or scheme check_url never saw, e.g. plain http:// to a remote host.
        response = self.session.post(
            address, data=message, headers=headers, timeout=self.operation_timeout, allow_redirects=False
        )
        # SOAP 1.1 answers 200, or 500 with a Fault; anything else (a 3xx included) is
        # decided on the status alone, before zeep reads a body that may be an HTML page.
        if response.status_code not in (200, 500):
            raise _HttpStatus(response.status_code)
        return response


class _HttpStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def hardened_settings() -> zeep.Settings:
    return zeep.Settings(
        strict=True,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
        xml_huge_tree=False,
    )


class SoapClient:
    """A zeep client for one WSDL binding at one endpoint, with the error mapping above.

    ``wsdl`` is the local WSDL file; ``binding`` its binding QName
    (``{urn:...}HealthCardBinding``). ``sleep`` is injectable so tests need not wait.
    """

    def __init__(
        self,
        wsdl: Path | str,
        binding: str,
        endpoint: SoapEndpoint,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        wsdl_path = Path(wsdl)
        if not wsdl_path.is_file():
            raise SoapConfigError(f"WSDL file {wsdl_path} not found")
        self.endpoint = endpoint
        self._sleep = sleep
        session = requests.Session()
        session.verify = str(endpoint.ca_bundle) if endpoint.ca_bundle else True
        # Proxies from the environment would route partner traffic around the pinned path.
        session.trust_env = False
        transport = _QuietTransport(cache=None, timeout=endpoint.timeouts, session=session)
        transport.operation_timeout = endpoint.timeouts
        # use_digest with nonce/created unset: zeep makes a new nonce and created time on
        # every apply(), i.e. on every attempt below.
        wsse = UsernameToken(endpoint.username, endpoint.password, use_digest=True)
        self._client = zeep.Client(
            str(wsdl_path), transport=transport, wsse=wsse, settings=hardened_settings()
        )
        self._service = self._client.create_service(binding, endpoint.url)

    def close(self) -> None:
        self._client.transport.session.close()

    def __enter__(self) -> SoapClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        """Call ``operation`` with ``arguments``, retrying as the module docstring says.

        Every attempt sends the same arguments (so the same ``requestId``) with a fresh
        security header. Returns the answer as plain Python values.
        """
        policy = self.endpoint.retry
        attempt = 0
        expired_retried = False
        while True:
            attempt += 1
            try:
                return _plain(self._invoke(operation, arguments))
            except _Retry as retry:
                if retry.expired:
                    if expired_retried:
                        log.error("SOAP %s: security header refused as expired twice", operation)
                        raise SecurityFault(
                            f"{operation}: WS-Security message expired twice (check the clock)",
                            operation=operation,
                            fault_code=retry.fault_code,
                        ) from None
                    expired_retried = True
                    attempt -= 1  # the once-only expiry retry does not count against the budget
                    log.warning("SOAP %s: message expired; retrying once with a new header", operation)
                    continue
                if attempt >= policy.attempts:
                    log.error("SOAP %s: giving up after %d attempts: %s", operation, attempt, retry.reason)
                    raise RetryableError(
                        f"{operation}: {retry.reason} (after {attempt} attempts)",
                        operation=operation,
                        fault_code=retry.fault_code,
                        attempts=attempt,
                    ) from None
                delay = policy.delay(attempt)
                log.warning(
                    "SOAP %s attempt %d failed (%s); retrying in %.2fs",
                    operation,
                    attempt,
                    retry.reason,
                    delay,
                )
                self._sleep(delay)

    def _invoke(self, operation: str, arguments: dict[str, Any]) -> Any:
        """One attempt, with zeep/requests exceptions mapped (kept apart so call() reads plainly)."""
        return _invoke_mapped(self, operation, arguments)


class SoapService:
    """Base of a partner's typed client: one :class:`SoapClient` for the subclass's ``WSDL``
    file and ``BINDING``; ``endpoint`` carries URL, credentials, timeouts, CA and retry
    policy."""

    WSDL: ClassVar[Path]
    BINDING: ClassVar[str]

    def __init__(
        self, endpoint: SoapEndpoint, *, wsdl: Path | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.soap = SoapClient(wsdl or self.WSDL, self.BINDING, endpoint, sleep=sleep)

    def close(self) -> None:
        self.soap.close()


class _Retry(Exception):
    def __init__(self, reason: str, fault_code: str = "", expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fault_code = fault_code
        self.expired = expired


def _fault_local_name(code: str | None) -> str:
    """``soap:Client.Auth`` -> ``Client``; ``wsse:FailedAuthentication`` -> ``FailedAuthentication``."""
    if not code:
        return ""
    local = code.rsplit(":", 1)[-1].rsplit("}", 1)[-1]
    return local


def _map_fault(operation: str, fault: zeep.exceptions.Fault) -> Exception:
    code = fault.code or ""
    if not code:  # an HTTP 500 whose body is XML but no SOAP Fault (a proxy's error page)
        return _Retry("HTTP 500 without a SOAP fault", "HTTP500")
    local = _fault_local_name(code)
    message = (fault.message or "").strip()[:300]
    if local in _WSSE_FAULTS:
        if local in _WSSE_RETRY_ONCE:
            return _Retry(f"security fault {code}", code, expired=True)
        log.error("SOAP %s: WS-Security fault %s", operation, code)
        return SecurityFault(
            f"{operation}: WS-Security fault {code}: {message}", operation=operation, fault_code=code
        )
    head = local.split(".", 1)[0]
    if head == "Client":
        log.error("SOAP %s: Client fault %s", operation, code)
        return ClientFault(
            f"{operation}: request refused ({code}): {message}", operation=operation, fault_code=code
        )
    if head == "Server":
        return _Retry(f"Server fault {code}", code)
    log.error("SOAP %s: unknown fault code %r", operation, code)
    return ProtocolError(
        f"{operation}: unknown SOAP fault code {code!r}: {message}", operation=operation, fault_code=code
    )


def _map_status(operation: str, status: int | None, detail: str) -> Exception:
    if status in (401, 403):
        log.error("SOAP %s: HTTP %s", operation, status)
        return SecurityFault(
            f"{operation}: HTTP {status} from the partner", operation=operation, fault_code=f"HTTP{status}"
        )
    if status is not None and (status >= 500 or status in (408, 429)):
        return _Retry(f"HTTP {status}", f"HTTP{status}")
    log.error("SOAP %s: unexpected answer, HTTP %s", operation, status)
    return ProtocolError(f"{operation}: unexpected answer (HTTP {status}): {detail}", operation=operation)


# What zeep raises for an answer hardened_settings() refuses, and for a message (a malformed
# answer, or arguments the WSDL does not allow) that does not follow the WSDL.
_UNSAFE_XML = (
    zeep.exceptions.DTDForbidden,
    zeep.exceptions.EntitiesForbidden,
    zeep.exceptions.ExternalReferenceForbidden,
)
_NOT_AS_WSDL = (
    zeep.exceptions.XMLSyntaxError,
    zeep.exceptions.XMLParseError,
    zeep.exceptions.ValidationError,
    zeep.exceptions.UnexpectedElementError,
)


def _invoke_mapped(self: SoapClient, operation: str, arguments: dict[str, Any]) -> Any:
    method = self._service[operation]
    try:
        return method(**arguments)
    except zeep.exceptions.Fault as fault:
        raise _map_fault(operation, fault) from None
    except _UNSAFE_XML as exc:
        log.error("SOAP %s: answer refused, unsafe XML (%s)", operation, type(exc).__name__)
        raise UnsafeXmlError(
            f"{operation}: answer refused: it carries {type(exc).__name__.replace('Forbidden', '')}",
            operation=operation,
        ) from None
    except _HttpStatus as exc:
        raise _map_status(operation, exc.status, "not a SOAP answer") from None
    except zeep.exceptions.TransportError as exc:
        raise _map_status(operation, exc.status_code, "not a SOAP message") from None
    except _NOT_AS_WSDL as exc:
        log.error("SOAP %s: message does not follow the WSDL (%s)", operation, type(exc).__name__)
        raise ProtocolError(
            f"{operation}: request or answer does not follow the WSDL: {str(exc)[:300]}", operation=operation
        ) from None
    except requests.exceptions.SSLError:
        log.error("SOAP %s: TLS verification failed for %s", operation, self.endpoint.url)
        raise SecurityFault(
            f"{operation}: TLS verification of {self.endpoint.url} failed",
            operation=operation,
            fault_code="TLS",
        ) from None
    except requests.exceptions.Timeout:
        raise _Retry("timeout") from None
    except requests.exceptions.ConnectionError:
        raise _Retry("connection failed") from None


def _plain(value: Any) -> Any:
    return zeep.helpers.serialize_object(value, target_cls=dict)


def aware(value: datetime, *, operation: str, field_name: str) -> datetime:
    """An ``xs:dateTime`` as an aware datetime; one without an offset is read as Beijing
    time and logged (health.md, insurer.md)."""
    if value.tzinfo is None or value.utcoffset() is None:
        log.warning("SOAP %s: %s has no UTC offset; read as Beijing time", operation, field_name)
        return value.replace(tzinfo=BEIJING)
    # zeep hands back isodate's FixedOffset; give callers a plain datetime.timezone.
    return value.replace(tzinfo=timezone(value.utcoffset()))
