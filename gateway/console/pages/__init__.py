"""The console's pages, one module each; importing this package registers their routes on
``gateway.console.blueprint.bp``. ``PAGES`` is the navigation, in the order operators read it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from gateway.console.pages import (  # noqa: F401 - each module registers its routes
    donations,
    exchanges,
    held,
    insurance,
    overview,
    signin,
    stats,
    volunteers,
)

PAGES = (
    ("console.overview", _l("Overview")),
    ("console.exchanges", _l("Exchanges")),
    ("console.held", _l("Held bank events")),
    ("console.volunteers", _l("Volunteers and cards")),
    ("console.insurance", _l("Insurance")),
    ("console.donations", _l("Donations")),
    ("console.stats", _l("Service statistics")),
)
