"""Where service happens: Shenzhen's districts, and ``OUTSIDE`` for service recorded
outside the city (insurer.md, "The cover": an incident during an ``OUTSIDE`` session is
not covered).

The nine administrative districts carry their GB/T 2260 codes. Two areas the city
administers have no GB/T 2260 code of their own, and take a platform code in letters, so
that it can never collide with a code the standard assigns later: 大鹏新区 (a new area
carved from 龙岗区, governed by its own management committee) and 深汕特别合作区 (in
Shanwei, governed by Shenzhen since 2018). Both are Shenzhen's for the cover: the city's
volunteers serve there under the city's platform. docs/decisions.md, "Service records
where they happen (issue 14)".

Plain Python: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

OUTSIDE = "OUTSIDE"


@dataclass(frozen=True)
class District:
    code: str
    name: str
    gbt2260: bool  # the code is the standard's (else a platform code in letters)

    @property
    def in_shenzhen(self) -> bool:
        return self.code != OUTSIDE


DISTRICTS: tuple[District, ...] = (
    District("440303", "罗湖区", True),
    District("440304", "福田区", True),
    District("440305", "南山区", True),
    District("440306", "宝安区", True),
    District("440307", "龙岗区", True),
    District("440308", "盐田区", True),
    District("440309", "龙华区", True),
    District("440310", "坪山区", True),
    District("440311", "光明区", True),
    District("DAPENG", "大鹏新区", False),
    District("SHENSHAN", "深汕特别合作区", False),
    District(OUTSIDE, "深圳市外", False),
)
CODES = tuple(d.code for d in DISTRICTS)
_BY_CODE = {d.code: d for d in DISTRICTS}
_BY_NAME = {d.name: d for d in DISTRICTS}


def district(value: str) -> District | None:
    """The district named by its code (``440304``, ``OUTSIDE``) or its name (``福田区``,
    as the bank's branch list writes it); None if it is neither."""
    value = value.strip()
    return _BY_CODE.get(value) or _BY_CODE.get(value.upper()) or _BY_NAME.get(value)


def name_of(code: str | None) -> str | None:
    found = _BY_CODE.get(code or "")
    return found.name if found else None


def in_shenzhen(code: str | None) -> bool:
    """A session's place counts as inside Shenzhen unless it is ``OUTSIDE``. A session
    recorded before places were kept has none, and counts as inside (insurer.md)."""
    return code != OUTSIDE


@dataclass(frozen=True)
class Place:
    """Where a session or a training was recorded: the district's code, and the terminal
    and site when it came from one."""

    district: str
    terminal_id: str | None = None
    site: str | None = None


# A generous box around the city and 深汕 (about 22.4-22.9 N, 113.7-114.7 E, and 深汕
# up to 23.2 N, 115.4 E): a Shenzhen terminal placed outside it is a typing slip (a
# coordinate of another city, or latitude and longitude swapped).
SHENZHEN_LAT = (22.3, 23.3)
SHENZHEN_LON = (113.6, 115.6)


def coordinates_problem(code: str, latitude: float | None, longitude: float | None) -> tuple[str, str] | None:
    """(field, reason) when the coordinates are not acceptable for a terminal of the
    district ``code``: both or neither, within range, and inside the city's box for a
    Shenzhen district."""
    if (latitude is None) != (longitude is None):
        return ("latitude" if latitude is None else "longitude", "give latitude and longitude together")
    if latitude is None or longitude is None:
        return None
    if not -90 <= latitude <= 90:
        return "latitude", "must be between -90 and 90"
    if not -180 <= longitude <= 180:
        return "longitude", "must be between -180 and 180"
    if code != OUTSIDE and not (
        SHENZHEN_LAT[0] <= latitude <= SHENZHEN_LAT[1] and SHENZHEN_LON[0] <= longitude <= SHENZHEN_LON[1]
    ):
        return "latitude", "not in Shenzhen, but the district is one of Shenzhen's"
    return None
