"""A file partner's transport (the ``adapters.transport.FileTransport`` port), built from
settings and the keystore for the partner's declared kind (``Partner.transport``).

``TRANSPORTS`` maps a kind to its factory: SFTP today. A new kind is one entry here and
one adapter, not a change to the exchange engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from adapters.transport import FileTransport
from gateway.db import transaction
from gateway.services.alerts import raise_alert
from gateway.services.ports import Ports, TransportFactory


@contextmanager
def sftp_transport(ports: Ports, partner: str) -> Iterator[FileTransport]:
    """The partner's SFTP account, from settings (URL) and the keystore (keys). A refused
    host key or login is never retried (the transport raises at once); here it also
    becomes an alert row, so operators see it in `svcard exchange alerts`, not only in a
    log line."""
    # paramiko loads here, when a file moves, not at every CLI start
    from adapters.sftp import SftpTransport, parse_sftp_url
    from adapters.sftp_errors import AuthError, HostKeyError

    s = ports.settings
    ks = ports.keystore()
    url = s.partner_url(partner)
    where = parse_sftp_url(url, partner)
    transport = SftpTransport(
        url,
        ks.ssh_client_key(),
        # every pinned key for this host: both keys survive a same-type host-key rotation
        ks.host_key_list(partner, where.host, where.port),
        timeout=s.sftp_timeout,
        retry_attempts=s.retry_attempts,
        retry_base_delay=s.retry_base_delay,
        partner=partner,
    )
    try:
        with transport:
            yield transport
    except (HostKeyError, AuthError) as exc:
        kind = "sftp_host_key_refused" if isinstance(exc, HostKeyError) else "sftp_login_refused"
        with transaction(ports.sessions) as session:
            raise_alert(
                session, kind, partner, f"{where.host}:{where.port}: {exc}", subject=f"{partner}:{kind}"
            )
        raise


TRANSPORTS: dict[str, TransportFactory] = {"sftp": sftp_transport}
