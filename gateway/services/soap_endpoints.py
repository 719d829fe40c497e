"""A SOAP partner's endpoint from settings: one place for URL, credentials, timeout, the
CA bundle and the retry policy (house style: partners are configured, not coded)."""

from __future__ import annotations

from adapters.soap import RetryPolicy, SoapEndpoint
from gateway.settings import Settings


def endpoint(settings: Settings, partner: str) -> SoapEndpoint:
    """A SOAP partner's endpoint; a missing URL stops with the setting's name."""
    return SoapEndpoint(
        settings.partner_url(partner),
        settings.partner_usernames[partner],
        settings.partner_passwords[partner],
        timeout=settings.soap_timeout,
        ca_bundle=settings.soap_ca_bundle,
        retry=RetryPolicy(settings.retry_attempts, settings.retry_base_delay),
    )
