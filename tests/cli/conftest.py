"""The CLI tests' fixtures."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gateway.cli import svcard


@pytest.fixture
def run(runtime):
    """``run("cards", "overdue", ...)``: the real `svcard` entry point on the test runtime."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(svcard, list(args), catch_exceptions=False)

    return invoke
