"""The terminal registry and its CSV load (gateway.services.terminals, terminal_import) on
real rows, SQLite and PostgreSQL: bad rows refused with line and field, the rest kept, a
second load changing nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.domain.errors import Conflict, Invalid, NotFound
from gateway.models import Terminal
from gateway.services import terminal_import, terminals

HEADER = "terminal_id,organisation,district,site_name,latitude,longitude,active\n"
GOOD = (
    "POS-FT-0001,福田区义工联,福田区,市民中心,22.543100,114.057900,Y\n"
    "POS-NS-0001,南山区义工联,440305,,,,\n"
    "POS-OUT-001,深圳义工联,OUTSIDE,东莞松山湖,22.9,113.9,N\n"
)


def load(db, text: str, name: str = "terminals.csv"):
    return terminal_import.load_csv_bytes(db, text.encode("utf-8"), file_name=name, actor="test")


def test_register_change_and_read_a_terminal(db) -> None:
    t = terminals.create_terminal(
        db, terminals.TerminalData("POS-LH-0001", "罗湖区义工联", "罗湖区", "东门", Decimal("22.5455"), Decimal("114.1200")),
        actor="op",
    )  # fmt: skip
    assert (t.district, t.site_name, t.latitude, t.active, t.source) == (
        "440303",
        "东门",
        Decimal("22.545500"),
        True,
        "api:op",
    )
    with pytest.raises(Conflict) as info:
        terminals.create_terminal(db, terminals.TerminalData("POS-LH-0001", "x", "440303"), actor="op")
    assert info.value.code == "TERMINAL_EXISTS"
    terminals.update_terminal(db, "POS-LH-0001", {"district": "盐田区", "site_name": None, "latitude": None, "longitude": None}, actor="op")  # fmt: skip
    assert (t.district, t.site_name, t.latitude) == ("440308", None, None)
    with pytest.raises(Invalid) as info:
        terminals.update_terminal(db, "POS-LH-0001", {"latitude": Decimal("39.9"), "longitude": Decimal("116.4")}, actor="op")  # fmt: skip
    assert (info.value.code, info.value.field) == ("COORDINATES", "latitude")
    with pytest.raises(Invalid) as info:
        terminals.update_terminal(db, "POS-LH-0001", {"district": "东莞"}, actor="op")
    assert (info.value.code, info.value.field) == ("UNKNOWN_DISTRICT", "district")
    assert t.district == "440308"  # a refused change leaves the terminal as it was
    with pytest.raises(NotFound):
        terminals.get_terminal(db, "POS-NONE")


def test_a_csv_load_keeps_the_good_rows_and_names_line_and_field_of_the_bad(db) -> None:
    bad = (
        "pos-lower,福田区义工联,福田区,,,,\n"  # line 5: terminal_id
        "POS-BA-0001,宝安区义工联,东莞市,,,,\n"  # line 6: district
        "POS-BA-0002,宝安区义工联,宝安区,,22.55,,Y\n"  # line 7: longitude missing
        "POS-BA-0003,宝安区义工联,宝安区,,north,113.88,Y\n"  # line 8: latitude not a number
        "POS-BA-0004,,宝安区,,,,maybe\n"  # line 9: organisation and active
        "POS-FT-0001,福田区义工联,福田区,,,,\n"  # line 10: repeats line 2
        "POS-BA-0005,宝安区义工联\n"  # line 11: too few fields
    )
    report = load(db, HEADER + GOOD + bad)
    assert (report.rows, report.created, report.updated, report.unchanged) == (10, 3, 0, 0)
    assert [str(e).split(":")[:3] for e in report.errors] == [
        ["line", "5", "terminal_id"],
        ["line", "6", "district"],
        ["line", "7", "longitude"],
        ["line", "8", "latitude"],
        ["line", "9", "active"],
        ["line", "9", "organisation"],
        ["line", "10", "terminal_id"],
        ["line", "11", "record"],
    ]
    assert "duplicate of line 2" in str(report.errors[6])
    rows = {t.terminal_id: t for t in db.query(Terminal)}
    assert set(rows) == {"POS-FT-0001", "POS-NS-0001", "POS-OUT-001"}
    assert (rows["POS-FT-0001"].district, rows["POS-FT-0001"].site_name) == ("440304", "市民中心")
    assert rows["POS-OUT-001"].active is False and rows["POS-NS-0001"].latitude is None
    assert rows["POS-NS-0001"].source == "load:terminals.csv:3"


def test_loading_the_same_file_again_changes_nothing_and_a_changed_row_updates(db) -> None:
    load(db, HEADER + GOOD)
    again = load(db, HEADER + GOOD)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 3, [])
    moved = load(db, HEADER + GOOD.replace("南山区义工联,440305", "南山区义工联,龙华区"))
    assert (moved.updated, moved.unchanged) == (1, 2)
    assert terminals.get_terminal(db, "POS-NS-0001").district == "440309"


def test_a_file_with_a_wrong_header_or_bytes_is_refused_whole(db) -> None:
    with pytest.raises(Invalid) as info:
        load(db, "terminal_id,organisation,district,colour\n")
    assert info.value.code == "HEADER" and "missing columns site_name" in info.value.message
    assert "unknown columns colour" in info.value.message
    with pytest.raises(Invalid) as info:
        terminal_import.load_csv_bytes(db, HEADER.encode() + b"\xff\xfe\n", file_name="t.csv")
    assert info.value.code == "NOT_UTF8" and info.value.message.startswith("t.csv:2:")
