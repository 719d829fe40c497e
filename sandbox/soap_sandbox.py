"""Both sandbox SOAP partners (SZHC health card, BOCINS insurer), each on its own loopback port.

For ``svcard sandbox serve``, the demo and the tests::

    sandbox = SoapSandbox(seed=1, sessions={...}).start()
    sandbox.health_url, sandbox.insurer_url, sandbox.credentials
    ...
    sandbox.stop()
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from sandbox.health_service import PATH as HEALTH_PATH
from sandbox.health_service import HealthCardService
from sandbox.insurer_claims import Session
from sandbox.insurer_service import PATH as INSURER_PATH
from sandbox.insurer_service import InsurerService, RosterHandler, default_roster_handler
from sandbox.soap_server import SoapServer

# Sandbox-only credentials (the partners' test accounts); never used outside the sandbox.
DEFAULT_USERS = {
    "SZHC": ("sva-sandbox", "szhc-sandbox-secret"),
    "BOCINS": ("sva-sandbox", "bocins-sandbox-secret"),
}


class SoapSandbox:
    """The two SOAP partners. Ports 0 pick free ones; the WSDLs' own are 8702 and 8703."""

    def __init__(
        self,
        *,
        seed: int = 0,
        sessions: Mapping[str, Sequence[Session]] | None = None,
        roster_handler: RosterHandler = default_roster_handler,
        unknown_identities: Collection[str] = (),
        users: Mapping[str, tuple[str, str]] = DEFAULT_USERS,
        host: str = "127.0.0.1",
        health_port: int = 0,
        insurer_port: int = 0,
    ) -> None:
        self.credentials = dict(users)
        self.health = HealthCardService(
            dict([users["SZHC"]]), seed=seed, unknown_identities=unknown_identities
        )
        self.insurer = InsurerService(
            dict([users["BOCINS"]]), seed=seed, sessions=sessions, roster_handler=roster_handler
        )
        self.health_server = SoapServer({HEALTH_PATH: self.health}, host=host, port=health_port)
        self.insurer_server = SoapServer({INSURER_PATH: self.insurer}, host=host, port=insurer_port)

    def start(self) -> SoapSandbox:
        self.health_server.start()
        self.insurer_server.start()
        return self

    def stop(self) -> None:
        self.health_server.stop()
        self.insurer_server.stop()

    @property
    def health_url(self) -> str:
        return self.health_server.url()

    @property
    def insurer_url(self) -> str:
        return self.insurer_server.url()

    def __enter__(self) -> SoapSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
