import base64

import pytest

from gateway import settings as settings_mod
from gateway.settings import SettingsError


def test_defaults_are_development_sqlite_inline(tmp_path):
    s = settings_mod.load(environ={"SVCARD_VAR_DIR": str(tmp_path)})
    assert s.env == "development"
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("svcard.db")
    assert s.redis_url is None
    assert len(s.data_key) == 32
    assert (tmp_path / "secrets" / "data.key").stat().st_mode & 0o077 == 0
    # generated once, then reused
    assert settings_mod.load(environ={"SVCARD_VAR_DIR": str(tmp_path)}).data_key == s.data_key


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("SVCARD_DATABASE_URL", "mysql://x", "SVCARD_DATABASE_URL: must be a sqlite"),
        ("SVCARD_REDIS_URL", "http://x", "SVCARD_REDIS_URL: must be a redis"),
        ("SVCARD_DATA_KEY", "not base64!", "SVCARD_DATA_KEY: must be base64"),
        ("SVCARD_DATA_KEY", base64.b64encode(b"short").decode(), "SVCARD_DATA_KEY: must be 32 bytes"),
        ("SVCARD_SFTP_TIMEOUT", "soon", "SVCARD_SFTP_TIMEOUT: must be a number"),
        ("SVCARD_ENV", "staging", "SVCARD_ENV: must be one of"),
        ("SVCARD_DATABSE_URL", "sqlite://", "SVCARD_DATABSE_URL: unknown setting"),
    ],
)
def test_bad_value_names_the_variable(tmp_path, name, value, message):
    with pytest.raises(SettingsError) as err:
        settings_mod.load(environ={"SVCARD_VAR_DIR": str(tmp_path), name: value})
    assert str(err.value).startswith(message)
    assert value not in str(err.value) or len(value) < 4


def test_production_requires_secrets(tmp_path):
    with pytest.raises(SettingsError, match="SVCARD_DATA_KEY: required"):
        settings_mod.load(environ={"SVCARD_ENV": "production", "SVCARD_VAR_DIR": str(tmp_path)})


def test_redacted_hides_secrets(tmp_path):
    s = settings_mod.load(
        environ={"SVCARD_VAR_DIR": str(tmp_path), "SVCARD_PARTNER_SZHC_PASSWORD": "hunter2-very-secret"}
    )
    shown = {name: value for name, value, _ in s.redacted()}
    assert shown["SVCARD_DATA_KEY"] == "***"
    assert shown["SVCARD_PARTNER_SZHC_PASSWORD"] == "***"
    assert "hunter2" not in repr(s)


def test_partner_url_unset_names_the_setting(tmp_path):
    s = settings_mod.load(environ={"SVCARD_VAR_DIR": str(tmp_path)})
    with pytest.raises(SettingsError, match="SVCARD_PARTNER_BOCSZ_URL is not set"):
        s.partner_url("BOCSZ")


def test_config_show_and_repr_hide_passwords_inside_urls(tmp_path):
    # A production DATABASE_URL or REDIS_URL carries its password; `svcard config show`
    # prints the redacted rows, so the password must not be among them (nor in a repr).
    s = settings_mod.load(
        environ={
            "SVCARD_VAR_DIR": str(tmp_path),
            "SVCARD_DATABASE_URL": "postgresql://svcard:Pg-s3cret@db.internal:5432/svcard",
            "SVCARD_REDIS_URL": "redis://:Redis-s3cret@cache.internal:6379/0",
            "SVCARD_PARTNER_BOCSZ_URL": "sftp://sva:Sftp-s3cret@sftp.bank.example:22/x",
        }
    )
    shown = {name: value for name, value, _ in s.redacted()}
    assert shown["SVCARD_DATABASE_URL"] == "postgresql+psycopg://svcard:***@db.internal:5432/svcard"
    assert shown["SVCARD_REDIS_URL"] == "redis://:***@cache.internal:6379/0"
    assert shown["SVCARD_PARTNER_BOCSZ_URL"] == "sftp://sva:***@sftp.bank.example:22/x"
    text = " ".join(shown.values()) + repr(s)
    assert "s3cret" not in text
    # Without a password nothing is hidden: operators still see where they connect.
    plain = settings_mod.load(
        environ={"SVCARD_VAR_DIR": str(tmp_path), "SVCARD_PARTNER_BOCSZ_URL": "sftp://sva@h:22/x"}
    )
    assert dict((n, v) for n, v, _ in plain.redacted())["SVCARD_PARTNER_BOCSZ_URL"] == "sftp://sva@h:22/x"


def test_production_https_soap_partner_needs_a_configured_ca_bundle(tmp_path):
    import base64 as b64

    key = b64.b64encode(b"k" * 32).decode()
    env = {
        "SVCARD_ENV": "production",
        "SVCARD_VAR_DIR": str(tmp_path),
        "SVCARD_DATABASE_URL": "sqlite:///x.db",
        "SVCARD_DATA_KEY": key,
        "SVCARD_LOOKUP_KEY": key,
        "SVCARD_ARCHIVE_KEY": key,
        "SVCARD_KEY_PASSPHRASE": "a-long-passphrase",
        "SVCARD_CONSOLE_SECRET": "c" * 32,
        "SVCARD_PARTNER_SZHC_URL": "https://szhc.example/soap",
    }
    with pytest.raises(SettingsError, match="SVCARD_SOAP_CA_BUNDLE: required in production"):
        settings_mod.load(environ=env)
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    assert settings_mod.load(environ={**env, "SVCARD_SOAP_CA_BUNDLE": str(ca)}).soap_ca_bundle == ca
