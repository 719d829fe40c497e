"""The ports a service is handed: what it reaches outside its database session.

Services never look the runtime up. Their caller — a job (``jobs.task``), a CLI command,
an API view — builds one ``Ports`` for its runtime (``gateway.wiring.ports``) and passes
it in; a test builds its own, pointing at the sandbox or at a fake client.

- ``sessions``: the session factory, for the steps that must commit between two network
  calls (a SEQ claimed before its upload, a download recorded before it is applied); a
  service that is one transaction takes the caller's ``Session`` instead.
- ``file_transport(partner)``: the partner's ``FileTransport`` of the kind its
  declaration names (SFTP today), a context manager.
- ``client(partner)``: the partner's SOAP client (``HealthCardPartner``,
  ``InsurerPartner``), built on first use and kept for the life of these ports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from adapters.transport import FileTransport
from gateway.partners import registry
from gateway.settings import Settings
from keys.keystore import Keystore

TransportFactory = Callable[["Ports", str], AbstractContextManager[FileTransport]]
ClientFactory = Callable[["Ports", str], Any]


@dataclass
class Ports:
    settings: Settings
    sessions: sessionmaker[Session]
    keystore: Callable[[], Keystore]
    #: a file transport's factory per kind (``Partner.transport``)
    transports: Mapping[str, TransportFactory]
    client_factory: ClientFactory
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _built: list[Any] = field(default_factory=list, repr=False)  # the clients close() closes

    def file_transport(self, partner: str) -> AbstractContextManager[FileTransport]:
        kind = registry.get(partner).transport
        try:
            factory = self.transports[kind]
        except KeyError:
            raise registry.RegistryError(f"{partner}: no file transport of kind {kind!r}") from None
        return factory(self, partner)

    def client(self, partner: str) -> Any:
        if partner not in self._clients:
            self._clients[partner] = self.client_factory(self, partner)
            self._built.append(self._clients[partner])
        return self._clients[partner]

    def close(self) -> None:
        """Close the clients these ports built (not those a caller handed in)."""
        while self._built:
            close = getattr(self._built.pop(), "close", None)
            if close is not None:
                close()

    def __enter__(self) -> Ports:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def with_client(self, partner: str, client: Any) -> Ports:
        """These ports with the caller's own ``client`` for ``partner`` (a test's fake)."""
        other = replace(self, _clients=dict(self._clients), _built=[])
        other._clients[partner] = client
        return other
