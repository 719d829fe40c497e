"""The request contract of a sandbox SOAP service: the XML schema embedded in its WSDL.

A partner's server checks what it is sent against the WSDL it published, so a client that
breaks the contract (elements out of ``xs:sequence`` order, unknown elements, an
``xs:date`` with trailing junk) fails here, not at the partner's acceptance test. The
sandbox keeps its own copies of the WSDLs (``sandbox/wsdl/``, the partners' published
files, byte for byte those of partners/wsdl/); it does not read the gateway's.

:func:`request_schema` builds the ``lxml.etree.XMLSchema`` once per WSDL (services build
their :class:`RequestContract` at start-up); ``RequestContract.problem`` validates one
Body element and words the first violation as "element <name>: <rule>", without the
offending value (it may be personal data, and faults end up in the client's logs).
"""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

from lxml import etree

WSDL_DIR = Path(__file__).resolve().parent / "wsdl"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
XS_NS = "http://www.w3.org/2001/XMLSchema"

_PREFIX = re.compile(r"^Element '(?:\{[^}]*\})?([^']*)'(?:, attribute '([^']*)')?: ")
_LEADING_VALUE = re.compile(r"^'.*' (?=is not a valid value)", re.S)
_FACET_VALUE = re.compile(r"The value '.*' (?=(?:is|has) )", re.S)
_CLARK = re.compile(r"\{[^}]*\}")


class WsdlError(Exception):
    """A WSDL the sandbox cannot serve (missing, no schema, not SOAP 1.1, imports)."""


def _parser() -> etree.XMLParser:
    # The WSDL is a file of ours, but it is parsed as hardened as any request.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@functools.cache
def request_schema(wsdl_name: str) -> tuple[str, frozenset[str], etree.XMLSchema]:
    """The ``wsdl:types`` schema of ``sandbox/wsdl/<wsdl_name>``: its target namespace,
    the names of its global elements, and the compiled XMLSchema (built once a process).

    Refuses a WSDL whose binding is not SOAP 1.1 (the only version the sandbox server
    speaks, so its faults are SOAP 1.1 faults) and a schema that imports or includes
    anything (nothing is fetched, from disk or network).
    """
    path = WSDL_DIR / wsdl_name
    try:
        root = etree.parse(str(path), parser=_parser()).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise WsdlError(f"{path}: cannot read the WSDL ({exc})") from None
    bindings = root.findall(f"{{{WSDL_NS}}}binding")
    if not bindings or any(b.find(f"{{{WSDL_SOAP11_NS}}}binding") is None for b in bindings):
        raise WsdlError(f"{path}: every binding must be SOAP 1.1")
    schemas = root.findall(f"{{{WSDL_NS}}}types/{{{XS_NS}}}schema")
    if len(schemas) != 1:
        raise WsdlError(f"{path}: expected one xs:schema in wsdl:types, found {len(schemas)}")
    embedded = schemas[0]
    for tag in ("import", "include", "redefine"):
        if embedded.find(f"{{{XS_NS}}}{tag}") is not None:
            raise WsdlError(f"{path}: xs:{tag} in the embedded schema is not supported")
    # A stand-alone schema document: the QNames in type="tns:..." need the WSDL root's
    # namespace declarations, which the embedded element only inherits.
    standalone = etree.Element(embedded.tag, attrib=dict(embedded.attrib), nsmap=embedded.nsmap)
    standalone.extend(etree.fromstring(etree.tostring(child)) for child in embedded)
    try:
        schema = etree.XMLSchema(etree.ElementTree(standalone))
    except etree.XMLSchemaParseError as exc:
        raise WsdlError(f"{path}: embedded schema does not compile ({exc})") from None
    names = frozenset(e.get("name") for e in embedded.findall(f"{{{XS_NS}}}element"))
    return embedded.get("targetNamespace", ""), names, schema


class RequestContract:
    """One WSDL's schema, shared by the threads of a server. A compiled libxml2 schema is
    read-only, but lxml keeps the last validation's error log on the XMLSchema object, so
    validation and reading the log are one step under a lock."""

    def __init__(self, wsdl_name: str) -> None:
        self.namespace, self.elements, self._schema = request_schema(wsdl_name)
        self._lock = threading.Lock()

    def problem(self, payload: etree._Element) -> str | None:
        """None if ``payload`` (the Body's element) is valid, else its first violation."""
        with self._lock:
            if self._schema.validate(payload):
                return None
            errors = list(self._schema.error_log)
        if not errors:
            return f"element {etree.QName(payload).localname}: does not follow the WSDL schema"
        return describe(errors[0].message)


def describe(message: str) -> str:
    """libxml2's message as "element <name>[, attribute <a>]: <rule>", values left out."""
    where, rule = "", message
    m = _PREFIX.match(message)
    if m:
        where = f"element {m[1]}" + (f", attribute {m[2]}" if m[2] else "") + ": "
        rule = message[m.end() :]
    rule = _LEADING_VALUE.sub("the value ", rule)
    rule = _FACET_VALUE.sub("The value ", rule)
    return where + _CLARK.sub("", rule).rstrip(".")
