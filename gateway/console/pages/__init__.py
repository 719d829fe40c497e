"""The console's pages, one module each; importing this package registers their routes on
``gateway.console.blueprint.bp``. The navigation is ``gateway.console.blueprint.PAGES``."""

from __future__ import annotations

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
