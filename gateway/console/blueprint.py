"""The console's blueprint, who is signed in, and what a role may do here.

The roles are the API's (gateway.api.auth): an operator reads and acts, an auditor reads,
masked, and acts on nothing. The platform and admin tokens have no console: the platform is
a machine, and the admin's one job (tokens) is `svcard tokens`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, abort, g
from flask_babel import lazy_gettext as _l

bp = Blueprint("console", __name__, template_folder="templates", static_folder="static")

#: Roles that may sign in to the console, and those of them that may act.
READ_ROLES = frozenset({"operator", "auditor"})
ACT_ROLES = frozenset({"operator"})

#: The navigation, in the order operators read it.
PAGES = (
    ("console.overview", _l("Overview")),
    ("console.exchanges", _l("Exchanges")),
    ("console.held", _l("Held bank events")),
    ("console.volunteers", _l("Volunteers and cards")),
    ("console.insurance", _l("Insurance")),
    ("console.donations", _l("Donations")),
    ("console.stats", _l("Service statistics")),
)


@dataclass(frozen=True)
class User:
    token_id: int
    name: str
    role: str

    @property
    def can_act(self) -> bool:
        return self.role in ACT_ROLES


def user() -> User:
    """The signed-in operator of this request (after gateway.console.security ran)."""
    return g.console_user


def acts(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view that changes something: refused (403) for a role that may only read, whatever
    the page showed (the auditor's pages have no buttons, but a hand-made POST must fail too)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not user().can_act:
            abort(403)
        return view(*args, **kwargs)

    return wrapper
