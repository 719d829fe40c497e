"""The gateway's partners, one package each, listed by ``gateway.partners.registry``."""
