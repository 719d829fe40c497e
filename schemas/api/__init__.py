"""Marshmallow schemas of every HTTP API payload (request and answer bodies, query and
header parameters). They import nothing of the gateway: the API layer (gateway.api) uses
them to validate, dump and document."""
