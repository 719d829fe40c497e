"""Overview: the card pipeline as a funnel, results late and due within two working days,
cards at risk of cut-and-close, today's expected files per partner, open alerts (with
acknowledge and a comment)."""

from __future__ import annotations

from collections import Counter

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from gateway.api.unit import db
from gateway.console.blueprint import acts, bp, user
from gateway.console.forms import NoteForm
from gateway.domain.errors import DomainError
from gateway.partners import registry
from gateway.services import alerts as alerts_svc
from gateway.services import card_queries
from gateway.services.expected_files import expected_files
from gateway.timeutil import beijing_today

LIST_LIMIT = 20


def _stage_labels() -> dict[str, str]:
    return {
        "applied": _("applied"), "official": _("official"), "ordered": _("ordered"), "accepted": _("accepted"),
        "produced": _("produced"), "notified": _("notified"), "collected": _("collected"),
        "rejected": _("rejected"), "lost": _("lost"), "cut_closed": _("cut and closed"),
    }  # fmt: skip


def _page(ack_forms: dict[int, NoteForm] | None = None, status: int = 200) -> tuple[str, int]:
    session, today = db(), beijing_today()
    labels = _stage_labels()
    funnel = card_queries.funnel(session)
    late = card_queries.overdue_orders(session, today)
    due = card_queries.due_soon_orders(session, today)
    # late and due results per awaited milestone (every bar drawn, zeros included)
    milestones = (card_queries.PRODUCED, card_queries.NOTIFIED)
    per_late, per_due = Counter(o.result for o in late), Counter(o.result for o in due)
    sla_chart = {
        "labels": [labels[m.lower()] for m in milestones],
        "series": [{"name": _("late"), "values": [per_late[m] for m in milestones]},
                   {"name": _("due within two working days"), "values": [per_due[m] for m in milestones]}],
    }  # fmt: skip
    expected = {p.id: expected_files(session, p.id, today) for p in registry.partners() if p.expected}
    alerts = alerts_svc.open_alerts(session, limit=LIST_LIMIT)
    forms = ack_forms or {}
    return render_template(
        "console/overview.html",
        funnel_chart={"labels": [labels[k] for k in funnel.stages], "values": list(funnel.stages.values())},
        exits={labels[k]: n for k, n in funnel.exits.items()},
        sla_chart=sla_chart,
        late=late[:LIST_LIMIT],
        due=due[:LIST_LIMIT],
        late_total=len(late),
        due_total=len(due),
        at_risk=card_queries.at_risk_cards(session, today)[:LIST_LIMIT],
        expected=expected,
        partner_names={p.id: p.name for p in registry.partners()},
        alerts=alerts,
        ack_forms={a.id: forms.get(a.id) or NoteForm(formdata=None) for a in alerts},
        today=today,
    ), status


@bp.route("/")
def overview() -> tuple[str, int]:
    return _page()


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@acts
def acknowledge_alert(alert_id: int) -> Response | tuple[str, int]:
    form = NoteForm()
    if form.validate_on_submit():
        try:
            alerts_svc.acknowledge(db(), alert_id, actor=f"console:{user().name}", note=form.note.data)
        except DomainError as exc:
            form.note.errors.append(exc.message)
        else:
            flash(_("Alert %(id)s acknowledged.", id=alert_id))
            return redirect(url_for("console.overview"))
    return _page({alert_id: form}, status=422)
