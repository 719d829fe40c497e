"""Volunteers, for the volunteer platform: apply, train, check in and out, approve,
choose, photo, deregister; read a volunteer with cards, functions and service hours."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy import select

from gateway.api import views
from gateway.api.auth import caller
from gateway.api.blueprint import ApiBlueprint
from gateway.api.pagination import page_query
from gateway.api.problems import validation_problem
from gateway.api.unit import db
from gateway.models import Volunteer
from gateway.services import volunteers as svc
from gateway.timeutil import beijing_today, utcnow
from schemas.api.common import PageArgsSchema
from schemas.api.volunteers import (
    ApplicationSchema,
    CheckInSchema,
    CheckOutSchema,
    ChoicesSchema,
    DeregisterSchema,
    DeregistrationSchema,
    PhotoInSchema,
    PhotoSchema,
    ServiceSessionSchema,
    TrainingInSchema,
    TrainingSchema,
    VolunteerDetailSchema,
    VolunteerListArgsSchema,
    VolunteerPageSchema,
    VolunteerSchema,
)

blp = ApiBlueprint(
    "volunteers",
    __name__,
    description="Volunteers: written by the volunteer platform, read by operators and auditors. "
    "A volunteer is named by the official 10-digit number, or the provisional number before approval.",
)

PLATFORM = ["platform"]
READERS = ["platform", "operator", "auditor"]
NUMBER = "/volunteers/<string(length=None, minlength=1, maxlength=16):number>"


@blp.route("/volunteers", methods=["POST"], roles=PLATFORM)
@blp.arguments(ApplicationSchema)
@blp.response(201, VolunteerSchema)
def create_application(data: dict[str, Any]) -> Any:
    """Create an application (a provisional number)."""
    v = svc.create_application(db(), svc.ApplicationData(**data), actor=caller().name)
    return views.volunteer(db(), v)


@blp.route("/volunteers", methods=["GET"], roles=READERS, pii=True)
@blp.arguments(VolunteerListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, VolunteerPageSchema)
def list_volunteers(filters: dict[str, Any], page: dict[str, Any]) -> Any:
    """Volunteers, oldest first, optionally by status."""
    stmt = select(Volunteer)
    if "status" in filters:
        stmt = stmt.where(Volunteer.status == filters["status"])
    result = page_query(db(), stmt, [Volunteer.id], page, lambda v: [v.id])
    result["items"] = views.volunteers(db(), result["items"])
    return result


@blp.route(NUMBER, methods=["GET"], roles=READERS, pii=True)
@blp.response(200, VolunteerDetailSchema)
def get_volunteer(number: str) -> Any:
    """A volunteer with cards (and their functions), training and service hours."""
    return views.volunteer_detail(db(), svc.get_volunteer(db(), number), beijing_today())


@blp.route(NUMBER, methods=["PATCH"], roles=PLATFORM)
@blp.arguments(ChoicesSchema)
@blp.response(200, VolunteerSchema)
def set_choices(data: dict[str, Any], number: str) -> Any:
    """Set opt-ins (transit, health card), carrier and branch; any of them."""
    if not data:
        raise validation_problem(
            {"body": ["give at least one of opt_transit, opt_health, carrier, branch_code"]}
        )
    actor = caller().name
    if "opt_transit" in data or "opt_health" in data:
        svc.set_opt_ins(
            db(), number, transit=data.get("opt_transit"), health=data.get("opt_health"), actor=actor
        )
    if "carrier" in data or "branch_code" in data:
        svc.set_card_choice(
            db(), number, carrier=data.get("carrier"), branch_code=data.get("branch_code"), actor=actor
        )
    return views.volunteer(db(), svc.get_volunteer(db(), number))


@blp.route(NUMBER + "/photo", methods=["PUT"], roles=PLATFORM)
@blp.arguments(PhotoInSchema)
@blp.response(200, VolunteerSchema)
def put_photo(data: dict[str, Any], number: str) -> Any:
    """Upload the photo: a JPEG of at least 295x413 stored pixels, base64 in JSON."""
    try:
        raw = base64.b64decode(data["jpeg_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise validation_problem({"jpeg_base64": ["not valid base64"]}) from None
    return views.volunteer(db(), svc.set_photo(db(), number, raw, actor=caller().name))


@blp.route(NUMBER + "/photo", methods=["GET"], roles=READERS, pii=True)
@blp.response(200, PhotoSchema)
def get_photo(number: str) -> Any:
    """The photo, base64: null unless unmasked (the photo is PII)."""
    v = svc.get_volunteer(db(), number)
    return {"volunteer_no": v.number, "jpeg_base64": v.photo}


@blp.route(NUMBER + "/training", methods=["POST"], roles=PLATFORM)
@blp.arguments(TrainingInSchema)
@blp.response(201, TrainingSchema)
def record_training(data: dict[str, Any], number: str) -> Any:
    """Record a training course (minutes count toward the 2 training hours)."""
    return svc.record_training(db(), number, actor=caller().name, **data)


@blp.route(NUMBER + "/check-in", methods=["POST"], roles=PLATFORM)
@blp.arguments(CheckInSchema)
@blp.response(201, ServiceSessionSchema)
def check_in(data: dict[str, Any], number: str) -> Any:
    """Start a service session (409 session-open if one is open)."""
    return svc.check_in(
        db(), number, at=data["at"] or utcnow(), activity=data["activity"], actor=caller().name
    )


@blp.route(NUMBER + "/check-out", methods=["POST"], roles=PLATFORM)
@blp.arguments(CheckOutSchema)
@blp.response(200, ServiceSessionSchema)
def check_out(data: dict[str, Any], number: str) -> Any:
    """End the open service session; its minutes count toward service hours."""
    return svc.check_out(db(), number, at=data["at"] or utcnow(), actor=caller().name)


@blp.route(NUMBER + "/approve", methods=["POST"], roles=PLATFORM)
@blp.response(200, VolunteerSchema)
def approve(number: str) -> Any:
    """Approve an applicant: every eligibility rule, then the official number and a NEW card order."""
    return views.volunteer(db(), svc.approve(db(), number, actor=caller().name))


@blp.route(NUMBER + "/deregister", methods=["POST"], roles=PLATFORM)
@blp.arguments(DeregisterSchema)
@blp.response(200, DeregistrationSchema)
def deregister(data: dict[str, Any], number: str) -> Any:
    """Cancel the registration (注销) at an instant; orders not yet produced are cancelled."""
    result = svc.deregister(
        db(), number, at=data["at"] or utcnow(), actor=caller().name, reason=data["reason"]
    )
    return {
        "volunteer": views.volunteer(db(), result.volunteer),
        "cancel_requests": [views.card_request(r) for r in result.cancel_requests],
    }
