"""SOAP 1.1 plumbing of the sandbox partners, written with werkzeug and lxml (not zeep).

The server side is deliberately independent of the gateway's zeep client, so the
contract of the WSDLs is checked from both ends. A :class:`SoapService` is a WSGI app for
one WSDL (document/literal, one namespace); :class:`SoapServer` serves one or more of them
on a loopback port in a background thread. Every request's Body is validated against the
schema embedded in the service's WSDL (``sandbox.soap_schema``) before an operation sees
it, so handlers may look children up by name: order, unknown elements and value types
were checked there, and a breach is a ``Client`` fault naming the element and the rule.

Run-time switches every service has, to exercise the client's retries:

* ``available = False``: every call answers HTTP 503 (maintenance);
* ``delay_seconds``: every answer is held back that long, after the request was applied;
* :meth:`SoapService.inject_server_faults`: the next N calls answer a ``Server`` fault
  without being applied;
* :meth:`SoapService.inject_delays`: the next N calls are applied, then answered late.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping

from lxml import etree
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from sandbox.soap_schema import RequestContract
from sandbox.soap_security import WSSE_NS, SecurityRefused, UsernameTokenChecker

log = logging.getLogger(__name__)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MAX_BODY_BYTES = 256 * 1024 * 1024  # insurer.md: messages of up to 256 MB


class SoapFault(Exception):
    """Answer a SOAP 1.1 Fault. ``code`` is ``Client``, ``Server`` or ``wsse:<name>``."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


def safe_parser(*, huge_text: bool = False) -> etree.XMLParser:
    """No DTD loading, no entities, no network. ``huge_text`` lifts libxml2's 10 MB cap on
    one text node (a roster's base64 content); DTDs stay refused, so no entity expansion."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=huge_text,
        remove_comments=True,
        remove_pis=True,
    )


def parse_envelope(body: bytes, *, huge_text: bool = False) -> tuple[etree._Element | None, etree._Element]:
    """Return (Header or None, the single Body child); refuse DTDs and anything not SOAP 1.1."""
    try:
        root = etree.fromstring(body, parser=safe_parser(huge_text=huge_text))
    except etree.XMLSyntaxError as exc:
        raise SoapFault("Client", f"request is not well-formed XML (line {exc.lineno})") from None
    if root.getroottree().docinfo.doctype:
        raise SoapFault("Client", "a DOCTYPE is not allowed in a request")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault("Client", "root element must be a SOAP 1.1 Envelope")
    header = root.find(f"{{{SOAP_ENV}}}Header")
    body_el = root.find(f"{{{SOAP_ENV}}}Body")
    if body_el is None:
        raise SoapFault("Client", "SOAP Body missing")
    children = [c for c in body_el if isinstance(c.tag, str)]
    if len(children) != 1:
        raise SoapFault("Client", "SOAP Body must hold exactly one element")
    return header, children[0]


def envelope_bytes(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    # A copy: remembered answers are sent again and an lxml element has one parent.
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(copy.deepcopy(payload))
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def fault_bytes(code: str, text: str) -> bytes:
    nsmap = {"soap": SOAP_ENV}
    if code.startswith("wsse:"):
        nsmap["wsse"] = WSSE_NS
        qcode = code
    else:
        qcode = f"soap:{code}"
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=nsmap)
    fault = etree.SubElement(etree.SubElement(env, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = qcode
    etree.SubElement(fault, "faultstring").text = text
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def child_text(element: etree._Element, ns: str, name: str, *, required: bool = True) -> str | None:
    found = element.find(f"{{{ns}}}{name}")
    if found is None or found.text is None:
        if required:
            raise SoapFault("Client", f"{etree.QName(element).localname}: element {name} is required")
        return None
    return found.text.strip()


class SoapService:
    """Base of a sandbox SOAP service: envelope, security, SOAPAction, switches, faults.

    Subclasses set ``namespace``, ``wsdl`` (the file name in ``sandbox/wsdl/``) and
    ``operations`` (name -> handler taking the body element, returning the response
    element).
    """

    namespace: str = ""
    path: str = "/"
    wsdl: str = ""
    huge_text = False  # True where a WSDL carries big base64 content (UploadRoster)

    def __init__(self, users: Mapping[str, str], *, clock: Callable[[], float] = time.time) -> None:
        # The WSDL's schema, compiled at start-up (once a process), never per request.
        self.contract = RequestContract(self.wsdl)
        missing = set(self.operations()) - self.contract.elements
        if self.contract.namespace != self.namespace or missing:
            raise ValueError(f"{self.wsdl} does not declare {sorted(missing) or self.namespace}")
        self.security = UsernameTokenChecker(users, clock=clock)
        self.clock = clock
        self.available = True
        self.delay_seconds = 0.0
        self.calls: Counter[str] = Counter()  # requests that reached an operation, by name
        self.refused: Counter[str] = Counter()  # security refusals, by wsse fault name
        self._lock = threading.RLock()
        self._server_faults = 0
        self._late_answers: list[float] = []

    # -- run-time switches -------------------------------------------------------------

    def inject_server_faults(self, count: int) -> None:
        """The next ``count`` authenticated calls answer a ``Server`` fault, not applied."""
        with self._lock:
            self._server_faults += count

    def inject_delays(self, count: int, seconds: float) -> None:
        """The next ``count`` calls are applied, then answered ``seconds`` late."""
        with self._lock:
            self._late_answers.extend([seconds] * count)

    # -- to implement ------------------------------------------------------------------

    def operations(self) -> Mapping[str, Callable[[etree._Element], etree._Element]]:
        raise NotImplementedError

    # -- WSGI ----------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> object:
        return self.wsgi(Request(environ))(environ, start_response)

    def wsgi(self, request: Request) -> Response:
        if request.method != "POST":
            return Response("SOAP endpoint: POST only\n", status=405, mimetype="text/plain")
        if not self.available:
            return Response("service down for maintenance\n", status=503, mimetype="text/plain")
        response, late = self._answer(request)
        delay = late + self.delay_seconds  # every answer, fault or not, is held back
        if delay:
            time.sleep(delay)
        return response

    def _answer(self, request: Request) -> tuple[Response, float]:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return self._fault("Client", "message larger than 256 MB"), 0.0
        try:
            header, payload = parse_envelope(request.get_data(cache=False), huge_text=self.huge_text)
            self.security.check(header)
            operation = self._operation_for(request, payload)
            problem = self.contract.problem(payload)
            if problem is not None:
                raise SoapFault("Client", f"{operation} breaks the WSDL schema: {problem}")
            with self._lock:
                if self._server_faults:
                    self._server_faults -= 1
                    raise SoapFault("Server", "injected server fault; try again later")
                self.calls[operation] += 1
            answer = self.operations()[operation](payload)
        except SecurityRefused as refused:
            log.warning("sandbox %s: security refused: %s", self.path, refused.code)
            with self._lock:
                self.refused[refused.code] += 1
            return self._fault(f"wsse:{refused.code}", refused.text), 0.0
        except SoapFault as fault:
            return self._fault(fault.code, fault.text), 0.0
        with self._lock:  # an injected late answer is one that was applied
            late = self._late_answers.pop(0) if self._late_answers else 0.0
        return Response(envelope_bytes(answer), status=200, content_type="text/xml; charset=utf-8"), late

    def _operation_for(self, request: Request, payload: etree._Element) -> str:
        qname = etree.QName(payload)
        if qname.namespace != self.namespace or qname.localname not in self.operations():
            raise SoapFault("Client", f"unknown operation {{{qname.namespace}}}{qname.localname}")
        action = (request.headers.get("SOAPAction") or "").strip().strip('"')
        expected = f"{self.namespace}#{qname.localname}"
        if action != expected:
            raise SoapFault("Client", f"SOAPAction {action!r} does not match {expected!r}")
        return qname.localname

    def _fault(self, code: str, text: str) -> Response:
        # SOAP 1.1 over HTTP: a fault travels with HTTP 500.
        return Response(fault_bytes(code, text), status=500, content_type="text/xml; charset=utf-8")

    def element(self, name: str, fields: list[tuple[str, object | None]]) -> etree._Element:
        """Build ``<tns:name>`` with qualified children; ``None`` values are left out."""
        root = etree.Element(f"{{{self.namespace}}}{name}", nsmap={"tns": self.namespace})
        for child, value in fields:
            if value is not None:
                etree.SubElement(root, f"{{{self.namespace}}}{child}").text = str(value)
        return root


class SoapServer:
    """Serves sandbox services (path -> WSGI app, normally a :class:`SoapService`) on a
    loopback port, threaded. ``port=0`` picks a free port (kept across stop/start);
    ``ssl_context`` (an ``ssl.SSLContext``) serves HTTPS.
    """

    def __init__(
        self,
        services: Mapping[str, Callable[[dict, Callable], object]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: object | None = None,
    ) -> None:
        self.services = dict(services)
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _app(self, environ: dict, start_response: Callable) -> object:
        service = self.services.get(environ.get("PATH_INFO", ""))
        if service is None:
            return Response("not found\n", status=404, mimetype="text/plain")(environ, start_response)
        return service(environ, start_response)

    def start(self) -> SoapServer:
        if self._server is not None:
            return self
        self._server = make_server(
            self.host, self.port, self._app, threaded=True, ssl_context=self.ssl_context
        )
        self.port = self._server.server_port  # keep the port so stop/start comes back on it
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sandbox-soap",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def url(self, path: str | None = None) -> str:
        """URL of ``path``, or of the only service when there is one."""
        if path is None:
            if len(self.services) != 1:
                raise ValueError("several services: name the path")
            path = next(iter(self.services))
        return self.base_url + path

    def __enter__(self) -> SoapServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
