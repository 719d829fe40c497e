"""Insurance and health card, for operators and auditors: a volunteer's claims with
SVA's flags, every flagged claim, and health-card requests still open."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from adapters.soap import SoapError
from gateway.api.blueprint import ApiBlueprint
from gateway.api.pagination import page_list
from gateway.api.problems import Problem
from gateway.api.unit import db, ports
from gateway.models.insurance import InsuranceClaim
from gateway.partners.health import service as health_svc
from gateway.partners.insurer import service as insurance_svc
from gateway.services import volunteers as volunteer_svc
from gateway.settings import SettingsError
from schemas.api.care import (
    ClaimArgsSchema,
    ClaimListSchema,
    ClaimPageSchema,
    HealthRequestArgsSchema,
    HealthRequestPageSchema,
)
from schemas.api.common import PageArgsSchema

log = logging.getLogger("svcard.api")

blp = ApiBlueprint(
    "care",
    __name__,
    description="Insurance claims (the insurer) and health-card requests (the health commission).",
)

READERS = ["operator", "auditor"]


def claim_answer(row: InsuranceClaim | insurance_svc.ClaimView) -> dict[str, Any]:
    """A claim as the API answers it (ClaimSchema), from its row or its view."""
    out = {k: getattr(row, k) for k in (
        "claim_no", "volunteer_no", "incident_time", "category", "disability_grade", "claimed_fen", "approved_fen",
        "paid_fen", "status", "status_time", "reject_reason", "covered", "allowed_fen")}  # fmt: skip
    out["flagged"] = bool(row.flagged)
    if isinstance(row, InsuranceClaim):
        out["flags"], out["notes"] = list(row.flags or []), list(row.notes or [])
    else:
        out["flags"] = [{"code": c, "reason": r} for c, r in row.flags]
        out["notes"] = [{"code": c, "reason": r} for c, r in row.notes]
    return out


@blp.route("/volunteers/<string(minlength=1, maxlength=16):number>/claims", methods=["GET"], roles=READERS)
@blp.arguments(ClaimArgsSchema, location="query")
@blp.response(200, ClaimListSchema)
def volunteer_claims(args: dict[str, Any], number: str) -> Any:
    """A volunteer's insurance claims with SVA's cover verdict and flags."""
    v = volunteer_svc.get_volunteer(db(), number)
    if v.volunteer_no is None:  # an applicant is not insured yet
        return {"volunteer_no": None, "claims": []}
    if args["refresh"]:
        try:
            with ports() as p:
                views = insurance_svc.lookup_claims(p, volunteer_no=v.volunteer_no)
        except SettingsError as exc:  # InsurerStopped is a coded 503 of its own
            raise Problem(503, "insurer-unavailable", "Insurer unavailable", str(exc)) from None
        except SoapError as exc:
            # The partner's own fault text stays in our logs; the answer names only the kind.
            log.warning("claims look-up for a volunteer failed: %s", exc)
            raise Problem(
                502,
                "insurer-error",
                "Insurer error",
                f"the insurer's service answered with an error ({exc.code})",
            ) from None
        return {"volunteer_no": v.volunteer_no, "claims": [claim_answer(c) for c in views]}
    rows = db().scalars(
        select(InsuranceClaim)
        .where(InsuranceClaim.volunteer_no == v.volunteer_no)
        .order_by(InsuranceClaim.incident_time, InsuranceClaim.claim_no)
    )
    return {"volunteer_no": v.volunteer_no, "claims": [claim_answer(r) for r in rows]}


@blp.route("/insurance/flagged-claims", methods=["GET"], roles=READERS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ClaimPageSchema)
def flagged_claims(page: dict[str, Any]) -> Any:
    """Every stored claim that fails the cover check, oldest incident first."""
    claims = [claim_answer(c) for c in insurance_svc.flagged_claims(db())]
    return page_list(claims, page, lambda c: [c["incident_time"], c["claim_no"]])


@blp.route("/health/requests", methods=["GET"], roles=READERS, pii=True)
@blp.arguments(HealthRequestArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, HealthRequestPageSchema)
def health_requests(args: dict[str, Any], page: dict[str, Any]) -> Any:
    """Health-card requests still open (pending), or waiting for an operator."""
    rows = health_svc.pending(db()) if args["which"] == "pending" else health_svc.needing_operator(db())
    return page_list(rows, page, lambda r: [r.id])
