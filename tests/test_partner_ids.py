"""A partner is a unit (issue 13): outside its package, the contract (schemas/), the
sandbox, migrations, tests, benchmarks and docs, no code names a partner id. Comments and
docstrings may (they explain); string constants and names may not."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gateway.partners import registry

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = (
    "gateway/partners/",
    "schemas/",
    "sandbox/",
    "gateway/migrations/",
    "tests/",
    "bench/",
    "docs/",
    "demo/",
)


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _offences(path: Path, pattern: re.Pattern[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    out = []
    for node in ast.walk(tree):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        elif isinstance(node, ast.Name):
            text = node.id
        if text is not None and pattern.search(text):
            out.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text[:60]!r}")
    return out


def test_no_partner_id_outside_the_partner_packages() -> None:
    ids = registry.ids()
    pattern = re.compile(r"\b(" + "|".join(ids) + r")\b")
    offences = []
    for path in sorted(ROOT.glob("**/*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", ".git/")) or rel.startswith(ALLOWED):
            continue
        offences += _offences(path, pattern)
    assert offences == []
