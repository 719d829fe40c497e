"""The library's two record types, registered beside the specs' (``schemas.recordtypes``)."""

from schemas import recordtypes
from schemas.fields import DATE, VOLUNTEER_NO, code, enum
from schemas.recordtypes import F, RecordType
from tests.partners.library import ID

LIBREQ = RecordType(
    "LIBREQ",
    (
        F("request_id", code(1, 20)),
        F("volunteer_no", VOLUNTEER_NO),
        F("action", enum("ENABLE", "DISABLE")),
        F("effective_date", DATE),
    ),
    directions=frozenset({("SVA", ID)}),
)

LIBACK = RecordType(
    "LIBACK",
    (
        F("request_id", code(1, 20)),
        F("result", enum("OK", "FAILED")),
        F("processed_date", DATE),
    ),
    directions=frozenset({(ID, "SVA")}),
)

TYPES = (LIBREQ, LIBACK)


def register() -> None:
    for rt in TYPES:
        recordtypes.register(rt, ID)


def unregister() -> None:
    for rt in TYPES:
        recordtypes.unregister(rt.name, ID)
