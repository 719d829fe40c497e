"""The sandbox's own settings (SVCARD_SANDBOX_*): read and checked by demo.sandbox_settings,
left alone by the production gateway's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo import sandbox_settings
from gateway import settings as settings_mod
from gateway.settings import SettingsError


def test_defaults_and_a_rate_set_in_the_environment(tmp_path: Path) -> None:
    s = sandbox_settings.load(tmp_path, environ={"SVCARD_SANDBOX_R01_RATE": "0.5"})
    assert s.dir == tmp_path / "sandbox" and s.seed == 20261128 and s.interval == 10
    bank, transit, fund = sandbox_settings.rates(s)
    assert bank.r01_identity == 0.5 and bank.r02_photo == 0.02 and transit.blocked_rate == 0.01
    assert fund.missing_rate == 0.01


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SVCARD_SANDBOX_R01_RATE": "1.5"}, "SVCARD_SANDBOX_R01_RATE"),
        ({"SVCARD_SANDBOX_SEED": "x"}, "SVCARD_SANDBOX_SEED"),
        ({"SVCARD_SANDBOX_R03_RATE": "0.1"}, "SVCARD_SANDBOX_R03_RATE"),  # bank.md has no R03
    ],
)
def test_a_bad_or_unknown_sandbox_setting_is_refused_by_name(tmp_path: Path, env, named) -> None:
    with pytest.raises(SettingsError, match=named):
        sandbox_settings.load(tmp_path, environ=env)


def test_the_gateway_leaves_the_sandbox_prefix_to_the_sandbox(tmp_path: Path) -> None:
    s = settings_mod.load(environ={"SVCARD_SANDBOX_R03_RATE": "0.1"}, var_dir=tmp_path)
    assert not any(name.startswith("SVCARD_SANDBOX_") for name, _v, _d in s.redacted())
    # outside the prefix, a misspelling is still the gateway's to refuse
    with pytest.raises(SettingsError, match="SVCARD_SANBOX_SEED"):
        settings_mod.load(environ={"SVCARD_SANBOX_SEED": "1"}, var_dir=tmp_path)
