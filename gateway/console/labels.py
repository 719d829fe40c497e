"""Words the pages show from data (file and event statuses, roles, queue states): marked
here so that ``make translations`` extracts them; the templates translate them with
``_(value)``. Nothing imports this module: it exists for the extractor."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

WORDS = (
    # roles
    _l("operator"), _l("auditor"),
    # exchange file statuses (gateway.models.exchange)
    _l("prepared"), _l("sent"), _l("accepted"), _l("partial"), _l("rejected"),
    _l("received"), _l("processed"), _l("duplicate"), _l("held"),
    # expected files
    _l("arrived"), _l("missing"), _l("awaited"),
    # held events
    _l("HELD"), _l("RELEASED"), _l("DISCARDED"),
    # volunteers
    _l("APPLICANT"), _l("OFFICIAL"), _l("DEREGISTERED"),
    # the job queue
    _l("queued"), _l("started"), _l("failed"), _l("scheduled"),
)  # fmt: skip
