"""The composition root: the ports of a runtime, for the callers of services (jobs, the
CLI, the API). Services take what this builds; they never import it (``.importlinter``).
"""

from __future__ import annotations

import importlib
from typing import Any

from gateway import context, metrics
from gateway.context import Runtime
from gateway.keystore import keystore_for
from gateway.partners import registry
from gateway.services.ports import Ports
from gateway.services.soap_endpoints import endpoint
from gateway.services.transports import TRANSPORTS


def soap_client(ports: Ports, partner: str) -> Any:
    """The partner's declared SOAP client (``Partner.client``) on its endpoint from settings."""
    path = registry.get(partner).client
    if not path:
        raise registry.RegistryError(f"{partner}: declares no SOAP client")
    module, _, name = path.partition(":")
    # The registry names the client (module:Class); its WSDL is parsed when it is built here,
    # on the first call to the partner, not at start-up (zeep itself comes with adapters.soap)
    factory = getattr(importlib.import_module(module), name)
    # every call counted and timed by operation (svcard_soap_calls_total)
    return metrics.metered(factory(endpoint(ports.settings, partner)), partner)


def ports(runtime: Runtime | None = None) -> Ports:
    """The ports of ``runtime`` (the process's by default)."""
    rt = runtime or context.current()
    return Ports(
        settings=rt.settings,
        sessions=rt.sessions,
        keystore=lambda: keystore_for(rt.settings),
        transports=TRANSPORTS,
        client_factory=soap_client,
    )
