"""The job wrapper: what every job of ``jobs/`` runs inside (in the manner of Warehouse's
task class).

``@task`` turns ``fn(job, *args)`` into the job ``fn(*args)`` that RQ (or the inline
queue) calls with ids and dates only. The wrapper builds the runtime's ports, opens the
job's transaction and hands both to ``fn`` as a ``Job``; it commits when ``fn`` returns and
rolls back when it raises, and closes the SOAP clients the ports built; only then does it
enqueue the follow-ups ``fn`` asked for with ``job.then(...)`` — a worker must never pick
up a job for a row it cannot see yet, nor one for a row that was rolled back.

A job whose work must commit between network calls (an exchange: a SEQ claimed before
its upload) passes ``job.ports`` to its service, which takes its own transactions from
``ports.sessions``; the job's own session then stays unused, and opens no connection.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from gateway import context, metrics, wiring
from gateway.db import transaction
from gateway.logs import bind
from gateway.services.ports import Ports
from jobs import queue

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Job:
    ports: Ports
    session: Session
    followups: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def then(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Enqueue ``func(*args, **kwargs)`` once this job's transaction has committed."""
        self.followups.append((func, args, kwargs))


def task(fn: Callable[Concatenate[Job, P], R]) -> Callable[P, R]:
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())[1:]  # without the Job
    # The job's partner, when it takes one, goes on every log record of the job.
    names = [p.name for p in params]
    partner_at = names.index("partner") if "partner" in names else None
    name = f"{fn.__module__}.{fn.__name__}"

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        rt = context.current()
        partner = kwargs.get("partner")
        if partner is None and partner_at is not None and len(args) > partner_at:
            partner = args[partner_at]
        with (
            bind(partner=partner) if partner else nullcontext(),
            metrics.timed_job(name, partner),
            wiring.ports(rt) as ports,
            transaction(rt.sessions) as session,
        ):
            job = Job(ports, session)
            result = fn(job, *args, **kwargs)
        for func, a, kw in job.followups:
            queue.enqueue(func, *a, **kw)
        return result

    # Callers (RQ, the schedule, tests) call the job without its Job: its signature is
    # fn's without that first parameter (the schedule binds an entry's arguments to it).
    del run.__wrapped__
    run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return run
