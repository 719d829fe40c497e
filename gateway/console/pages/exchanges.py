"""Exchanges: the files in and out per partner with their ACK codes, a file's page (its
records' errors, its ACK, its archive entry), replaying a rejected file, triggering a
partner's cycle, and what the job queue holds (failed jobs, with retry)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from gateway.api.unit import db, ports
from gateway.console.blueprint import acts, bp, user
from gateway.console.forms import CycleForm, FileFilter, NoteForm, ReplayForm
from gateway.domain.errors import DomainError
from gateway.models.exchange import IN_STATUSES, OUT_STATUSES, ExchangeFile
from gateway.partners import registry
from gateway.services import exchange as exchange_svc
from jobs import exchange as exchange_jobs
from jobs import queue

PAGE = 25
STATUSES = tuple(dict.fromkeys(OUT_STATUSES + IN_STATUSES))


def _filter_form() -> FileFilter:
    form = FileFilter(request.args)
    form.partner.choices = [("", _("every partner"))] + [(p, p) for p in registry.file_partner_ids()]
    form.status.choices = [("", _("every status"))] + [(s, _(s)) for s in STATUSES]
    return form


def _files(form: FileFilter) -> tuple[list[ExchangeFile], dict[str, Any] | None]:
    """One page of files, newest first (keyset on the id, the partner/status index)."""
    stmt = select(ExchangeFile)
    if form.partner.data:
        stmt = stmt.where(ExchangeFile.partner == form.partner.data)
    if form.status.data:
        stmt = stmt.where(ExchangeFile.status == form.status.data)
    if form.before.data:
        stmt = stmt.where(ExchangeFile.id < form.before.data)
    rows = list(db().scalars(stmt.order_by(ExchangeFile.id.desc()).limit(PAGE + 1)))
    more = None
    if len(rows) > PAGE:
        rows = rows[:PAGE]
        more = {k: v for k, v in (("partner", form.partner.data), ("status", form.status.data)) if v}
        more["before"] = rows[-1].id
    return rows, more


def _page(
    cycle_forms: dict[str, CycleForm] | None = None,
    status: int = 200,
    retry_forms: dict[str, NoteForm] | None = None,
) -> tuple[str, int]:
    form = _filter_form()
    valid = form.validate() if request.args else True
    rows, more = _files(form) if valid else ([], None)
    state = queue.queue_state()
    forms = cycle_forms or {}
    return render_template(
        "console/exchanges.html",
        form=form,
        files=rows,
        more=more,
        partners=[p for p in registry.partners() if p.file_partner],
        cycle_forms={p: forms.get(p) or CycleForm(formdata=None) for p in registry.file_partner_ids()},
        queue_state=state,
        retry_form=NoteForm(formdata=None),
        retry_forms=retry_forms or {},
    ), (status if valid else 422)


@bp.route("/exchanges")
def exchanges() -> tuple[str, int]:
    return _page()


def _file(file_id: int) -> ExchangeFile:
    row = db().get(ExchangeFile, file_id)
    if row is None:
        abort(404)
    return row


def _file_page(row: ExchangeFile, form: ReplayForm | None = None, status: int = 200) -> tuple[str, int]:
    ack = db().get(ExchangeFile, row.ack_file_id) if row.ack_file_id else None
    acked = db().scalars(select(ExchangeFile).where(ExchangeFile.ack_file_id == row.id).limit(5)).all()
    replayable = row.direction == "in" and row.status == "rejected"
    return render_template(
        "console/file.html", f=row, ack=ack, acked=acked, replayable=replayable,
        form=form or ReplayForm(formdata=None),
    ), status  # fmt: skip


@bp.route("/exchanges/files/<int:file_id>")
def exchange_file(file_id: int) -> tuple[str, int]:
    return _file_page(_file(file_id))


@bp.route("/exchanges/files/<int:file_id>/replay", methods=["POST"])
@acts
def replay_file(file_id: int) -> Response | tuple[str, int]:
    row = _file(file_id)
    form = ReplayForm()
    if form.validate_on_submit():
        try:
            outcome = exchange_svc.replay(ports(), file_id, form.comment.data, f"console:{user().name}")
        except DomainError as exc:
            form.comment.errors.append(exc.message)
        else:
            flash(_("File %(id)s replayed: %(outcome)s.", id=file_id, outcome=_(outcome)))
            return redirect(url_for("console.exchange_file", file_id=file_id))
    return _file_page(row, form, status=422)


@bp.route("/exchanges/<partner>/cycle", methods=["POST"])
@acts
def trigger_cycle(partner: str) -> Response | tuple[str, int]:
    if partner not in registry.file_partner_ids():
        abort(404)
    form = CycleForm()
    if not form.validate_on_submit():
        return _page({partner: form}, status=422)
    day = form.business_date.data or None
    if day:
        day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    handle = queue.enqueue(exchange_jobs.run_cycle, partner, day)
    if handle.status == "failed":
        flash(_("The %(partner)s cycle failed: %(error)s", partner=partner, error=handle.error), "error")
    elif handle.mode == "rq":
        flash(_("The %(partner)s cycle is queued as job %(id)s.", partner=partner, id=handle.id))
    else:
        flash(_("The %(partner)s cycle ran.", partner=partner))
    return redirect(url_for("console.exchanges", partner=partner))


@bp.route("/jobs/<job_id>/retry", methods=["POST"])
@acts
def retry_job(job_id: str) -> Response | tuple[str, int]:
    form = NoteForm()
    if not form.validate_on_submit():
        # the page again, the message next to this job's reason field; nothing requeued
        return _page(retry_forms={job_id: form}, status=422)
    queue.retry_failed(job_id, actor=f"console:{user().name}", reason=form.note.data)
    flash(_("Job %(id)s is queued again.", id=job_id))
    return redirect(url_for("console.exchanges"))
