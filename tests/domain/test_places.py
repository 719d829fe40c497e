"""Shenzhen's districts and OUTSIDE (gateway.domain.places): codes, names, the cover's
"inside Shenzhen", and a terminal's coordinates."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.domain import places
from gateway.domain.places import OUTSIDE, coordinates_problem, district, in_shenzhen

ROOT = Path(__file__).resolve().parents[2]


def test_the_nine_districts_carry_their_gb_t_2260_codes():
    official = {d.name: d.code for d in places.DISTRICTS if d.gbt2260}
    assert official == {
        "罗湖区": "440303", "福田区": "440304", "南山区": "440305", "宝安区": "440306", "龙岗区": "440307",
        "盐田区": "440308", "龙华区": "440309", "坪山区": "440310", "光明区": "440311",
    }  # fmt: skip


def test_areas_without_a_standard_code_take_letters_that_cannot_collide_with_one():
    others = [d for d in places.DISTRICTS if not d.gbt2260]
    assert {d.name for d in others} == {"大鹏新区", "深汕特别合作区", "深圳市外"}
    assert all(not d.code.isdigit() for d in others)
    assert len(set(places.CODES)) == len(places.CODES)


def test_a_district_is_found_by_code_or_by_name():
    assert district("440304") == district("福田区") == district(" 福田区 ")
    assert district("outside").code == OUTSIDE
    assert district("440300") is None and district("东莞") is None


def test_every_district_of_the_shipped_branch_list_is_known():
    """gateway/data/branches.csv (the bank's branches) writes districts by name."""
    with (ROOT / "gateway" / "data" / "branches.csv").open(encoding="utf-8") as fh:
        names = {row["district"] for row in csv.DictReader(fh)}
    assert all(district(n) is not None and district(n).in_shenzhen for n in names)


def test_only_outside_is_outside_shenzhen_and_no_place_counts_as_inside():
    assert not in_shenzhen(OUTSIDE)
    assert in_shenzhen("440305") and in_shenzhen("SHENSHAN") and in_shenzhen(None)


@pytest.mark.parametrize(
    ("code", "lat", "lon", "problem"),
    [
        ("440304", 22.5431, 114.0579, None),
        ("440304", None, None, None),
        ("SHENSHAN", 22.95, 115.25, None),
        ("OUTSIDE", 39.9042, 116.4074, None),  # Beijing: fine for an OUTSIDE terminal
        ("440304", 22.5, None, "longitude"),
        ("440304", None, 114.0, "latitude"),
        ("OUTSIDE", 91, 0, "latitude"),
        ("OUTSIDE", 0, -181, "longitude"),
        ("440304", 114.0579, 22.5431, "latitude"),  # swapped
        ("440305", 39.9042, 116.4074, "latitude"),  # another city's coordinates
    ],
)
def test_terminal_coordinates_rule(code, lat, lon, problem):
    found = coordinates_problem(code, lat, lon)
    assert (found[0] if found else None) == problem
