"""Bank events held for an operator (bank.md "Order across files"): release one (applied
now, and the card's events held behind it) or discard it, each with a recorded reason."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from gateway.api.unit import db
from gateway.console.blueprint import acts, bp, user
from gateway.console.forms import NoteForm
from gateway.domain.errors import DomainError
from gateway.models.cards import HeldEvent, HeldStatus
from gateway.partners.bank import events as bank_events

PAGE = 25
STATUSES = (HeldStatus.HELD, HeldStatus.RELEASED, HeldStatus.DISCARDED)


def _page(forms: dict[int, NoteForm] | None = None, status: int = 200) -> tuple[str, int]:
    which = request.args.get("status", HeldStatus.HELD)
    bad = which not in STATUSES
    after = request.args.get("after", type=int)
    stmt = select(HeldEvent).where(HeldEvent.status == (HeldStatus.HELD if bad else which))
    if after:
        stmt = stmt.where(HeldEvent.id > after)
    # Oldest first: a card's events are released in the order they were held.
    rows = list(db().scalars(stmt.order_by(HeldEvent.id).limit(PAGE + 1)))
    more = {"status": which, "after": rows[PAGE - 1].id} if len(rows) > PAGE else None
    rows = rows[:PAGE]
    given = forms or {}
    return render_template(
        "console/held.html", rows=rows, more=more, which=which, statuses=STATUSES, bad_status=bad,
        forms={h.id: given.get(h.id) or NoteForm(formdata=None) for h in rows},
    ), (422 if bad else status)  # fmt: skip


@bp.route("/held")
def held() -> tuple[str, int]:
    return _page()


@bp.route("/held/<int:held_id>/<any(release, discard):action>", methods=["POST"])
@acts
def resolve_held(held_id: int, action: str) -> Response | tuple[str, int]:
    form = NoteForm()
    if form.validate_on_submit():
        fn = bank_events.release if action == "release" else bank_events.discard
        try:
            done = fn(db(), held_id, actor=f"console:{user().name}", note=form.note.data.strip())
        except DomainError as exc:
            db().rollback()
            form.note.errors.append(exc.message)
        else:
            after = len(done) - 1 if action == "release" else len(done)
            if action == "release":
                flash(_("Event %(id)s released; %(n)s held behind it applied.", id=held_id, n=after))
            else:
                flash(_("Event %(id)s discarded; %(n)s held behind it applied.", id=held_id, n=after))
            return redirect(url_for("console.held"))
    return _page({held_id: form}, status=422)
