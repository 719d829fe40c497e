"""A SOAP partner's endpoint from settings: one place for URL, credentials, timeout, the
CA bundle and the retry policy (house style: partners are configured, not coded)."""

from __future__ import annotations

from adapters.soap import RetryPolicy, SoapEndpoint
from gateway import context


def endpoint(partner: str) -> SoapEndpoint:
    """``SZHC`` or ``BOCINS``; a missing URL stops with the setting's name."""
    s = context.current().settings
    return SoapEndpoint(
        s.partner_url(partner),
        s.partner_usernames[partner],
        s.partner_passwords[partner],
        timeout=s.soap_timeout,
        ca_bundle=s.soap_ca_bundle,
        retry=RetryPolicy(s.retry_attempts, s.retry_base_delay),
    )
