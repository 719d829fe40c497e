"""Fixtures for the deploy/ examples: Debian's ``prometheus`` package (``promtool`` and
``prometheus``), which scripts/servers.sh installs; missing, the tests that need it skip
(fail in CI, like every real server the suite uses)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS_DIR = DEPLOY / "prometheus"
RULES = PROMETHEUS_DIR / "rules.yml"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        require_service(
            name, f"{name} is not on PATH (Debian's prometheus package; scripts/servers.sh installs it)"
        )
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return _tool("promtool")


@pytest.fixture(scope="session")
def prometheus() -> str:
    return _tool("prometheus")


def alert_rules() -> list[dict]:
    """The alerting rules of deploy/prometheus/rules.yml, every group's."""
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]
