"""ARCHITECTURE's import rule: the API payload schemas import nothing of the gateway."""

from __future__ import annotations

import subprocess
import sys


def test_schemas_api_imports_no_gateway_module() -> None:
    code = (
        "import sys, pkgutil, importlib, schemas.api as p\n"
        "for m in pkgutil.iter_modules(p.__path__): importlib.import_module('schemas.api.' + m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'gateway' or n.startswith('gateway.'))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
