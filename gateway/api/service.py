"""Service recorded where it happens, for the volunteer platform: check-in, check-out and
training swiped at a POS terminal (or with the district the platform gives), and who is
serving now for the service map (counts; names for the roles that may see them)."""

from __future__ import annotations

from typing import Any

from gateway.api.auth import UNMASK_ROLES, caller
from gateway.api.blueprint import ApiBlueprint
from gateway.api.problems import Problem
from gateway.api.unit import db
from gateway.domain import places
from gateway.domain.service_rules import UnknownDistrict
from gateway.services import serving as serving_svc
from gateway.services import terminal_swipes as svc
from gateway.timeutil import utcnow
from schemas.api.service import (
    CheckInSwipeSchema,
    CheckOutSwipeSchema,
    ServingArgsSchema,
    ServingNowSchema,
    TrainingSwipeSchema,
)
from schemas.api.volunteers import ServiceSessionSchema, TrainingSchema

blp = ApiBlueprint(
    "service",
    __name__,
    description="Service sessions and training recorded at POS terminals, and who is serving now. "
    "A swipe at a terminal repeated within a minute answers as the first, with Swipe-Repeated: true.",
)

PLATFORM = ["platform"]
READERS = ["platform", "operator", "auditor"]
REPEATED = "Swipe-Repeated"


def _swipe(data: dict[str, Any]) -> svc.Swipe:
    return svc.Swipe(
        at=data["at"] or utcnow(),
        card_id=data["card_id"],
        volunteer_no=data["volunteer_no"],
        terminal_id=data["terminal_id"],
        district=data.get("district"),
        site=data.get("site"),
    )


def _answer(recorded: svc.Recorded, status: int) -> Any:
    headers = {REPEATED: "true"} if recorded.repeated else {}
    return recorded.record, status, headers


@blp.route("/service/check-in", methods=["POST"], roles=PLATFORM)
@blp.arguments(CheckInSwipeSchema)
@blp.response(201, ServiceSessionSchema)
def check_in(data: dict[str, Any]) -> Any:
    """Start a session where the swipe happened: the district given, else the terminal's."""
    return _answer(svc.check_in(db(), _swipe(data), activity=data["activity"], actor=caller().name), 201)


@blp.route("/service/check-out", methods=["POST"], roles=PLATFORM)
@blp.arguments(CheckOutSwipeSchema)
@blp.response(200, ServiceSessionSchema)
def check_out(data: dict[str, Any]) -> Any:
    """End the open session (more than a day after its check-in: 422 session-too-long)."""
    return _answer(svc.check_out(db(), _swipe(data), actor=caller().name), 200)


@blp.route("/service/training", methods=["POST"], roles=PLATFORM)
@blp.arguments(TrainingSwipeSchema)
@blp.response(201, TrainingSchema)
def training(data: dict[str, Any]) -> Any:
    """A training course attended where the swipe happened, held on its Beijing date."""
    recorded = svc.record_training(
        db(), _swipe(data), course=data["course"], minutes=data["minutes"], actor=caller().name
    )
    return _answer(recorded, 201)


@blp.route("/service/now", methods=["GET"], roles=READERS, pii=True)
@blp.arguments(ServingArgsSchema, location="query")
@blp.response(200, ServingNowSchema)
def serving_now(args: dict[str, Any]) -> Any:
    """Who is serving now: open sessions begun within a day, per district and site. With
    ``names=true`` (platform, operator) also who, names masked unless unmasked."""
    if args["names"] and caller().role not in UNMASK_ROLES:
        raise Problem(403, "names-forbidden", "Names not allowed", f"role {caller().role} sees counts only",
                      field="names")  # fmt: skip
    district = None
    if "district" in args:
        found = places.district(args["district"])
        if found is None:
            raise UnknownDistrict("not a Shenzhen district code or name, nor OUTSIDE")
        district = found.code
    now = utcnow()
    by_district: dict[str | None, dict[str, Any]] = {}
    for c in serving_svc.counts(db(), now, district):
        entry = by_district.setdefault(
            c.district,
            {"district": c.district, "district_name": places.name_of(c.district), "serving": 0, "sites": []},
        )
        entry["serving"] += c.serving
        entry["sites"].append({"site": c.site, "serving": c.serving})
    volunteers = None
    if args["names"]:
        volunteers = [
            {"volunteer_no": v.number, "name": v.name, "district": s.district, "site": s.site,
             "terminal_id": s.terminal_id, "activity": s.activity, "check_in": s.check_in}
            for s, v in serving_svc.serving(db(), now, district)
        ]  # fmt: skip
    return {
        "at": now,
        "serving": sum(d["serving"] for d in by_district.values()),
        "districts": list(by_district.values()),
        "volunteers": volunteers,
    }
