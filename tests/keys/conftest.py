from tests.keys.fixtures import cli_runtime, identities, keystore_template, ks  # noqa: F401
