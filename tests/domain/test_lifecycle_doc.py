"""docs/lifecycle.md shows exactly the transition table of the code."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.domain import lifecycle as lc

DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"


def test_documented_transitions_match_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Transitions", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([A-Z_]+) \| ([A-Z_]+) \| ([A-Z_]+)[^|]*\|$", section, re.M)
    documented = {
        (s, e, n) for s, e, n in rows if s in lc.CardState.__members__ and n in lc.CardState.__members__
    }
    code = {(str(s), str(e), str(n)) for s, row in lc.TRANSITIONS.items() for e, n in row.items()}
    assert documented == code
