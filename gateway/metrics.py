"""Prometheus metrics (docs/metrics.md).

Two kinds, both on ``/metrics`` and on ``svcard metrics serve``:

- **Events**, counted where they happen, in every process: jobs, SOAP calls, API
  requests. With ``PROMETHEUS_MULTIPROC_DIR`` set in the environment of every process
  (gunicorn's workers, ``svcard worker``, ``svcard cron``) prometheus-client's
  multiprocess mode writes each process's values to that directory and a scrape sums them;
  unset (development, the demo), they are this process's own.
- **State**, read from the database at scrape time (``gateway.metrics_state``): files and
  record errors, open alerts, late orders, cards at risk, pending requests, certificates'
  expiry, the last month's reconciliation, the queues in Redis. The database is the truth
  every process shares, so these are right whichever process answers the scrape.

No label carries PII or an unbounded value: partners, file types, statuses, ACK codes,
operations, job and route names come from fixed sets (no volunteer number, no file name).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

# A counter's *_created series doubles every series for a value no alert rule reads.
disable_created_metrics()

__all__ = ["CONTENT_TYPE_LATEST", "exposition", "metered", "observe_request", "scrape_registry", "timed_job"]

# Seconds: a health sync is a second, a 2,000,000-record SWIPE file several minutes.
_JOB_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_CALL_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

JOBS = Counter("svcard_jobs_total", "Jobs run, by job (label task: Prometheus keeps job for its target), partner and outcome (finished|failed)",
               ["task", "partner", "outcome"])  # fmt: skip
JOB_SECONDS = Histogram("svcard_job_duration_seconds", "Time a job took (an exchange's send or fetch "
                        "cycle is its job), by job and partner", ["task", "partner"], buckets=_JOB_BUCKETS)  # fmt: skip
SOAP_CALLS = Counter("svcard_soap_calls_total", "SOAP calls by partner, operation and outcome "
                     "(ok, or the fault class: SecurityFault, ClientFault, RetryableError, ...)",
                     ["partner", "operation", "outcome"])  # fmt: skip
SOAP_SECONDS = Histogram("svcard_soap_call_duration_seconds", "Time of a SOAP call, by partner and operation",
                         ["partner", "operation"], buckets=_CALL_BUCKETS)  # fmt: skip
HTTP_REQUESTS = Counter("svcard_http_requests_total", "API requests by route (the URL rule), method and status",
                        ["route", "method", "status"])  # fmt: skip
HTTP_SECONDS = Histogram("svcard_http_request_duration_seconds", "API request latency by route and method",
                         ["route", "method"], buckets=_CALL_BUCKETS)  # fmt: skip


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


@contextmanager
def timed_job(job: str, partner: str | None) -> Iterator[None]:
    """Count and time one run of a job (the job wrapper)."""
    labels = (job, partner or "")
    start = time.perf_counter()
    outcome = "failed"
    try:
        yield
        outcome = "finished"
    finally:
        JOB_SECONDS.labels(*labels).observe(time.perf_counter() - start)
        JOBS.labels(*labels, outcome).inc()


class metered:  # noqa: N801 - reads as a wrapper: metered(client, "SZHC")
    """A SOAP client whose calls are counted and timed by operation (its method's name)."""

    def __init__(self, client: Any, partner: str) -> None:
        self._client, self._partner = client, partner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or name == "close" or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            outcome = "ok"
            try:
                return attr(*args, **kwargs)
            except Exception as exc:
                outcome = type(exc).__name__
                raise
            finally:
                SOAP_SECONDS.labels(self._partner, name).observe(time.perf_counter() - start)
                SOAP_CALLS.labels(self._partner, name, outcome).inc()

        return call

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if close is not None:
            close()


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_SECONDS.labels(route, method).observe(seconds)


def scrape_registry(*collectors: Collector) -> CollectorRegistry:
    """What one scrape answers: the events (summed over every process in multiprocess mode,
    else this process's own) and the given state collectors."""
    reg = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(reg)
    else:
        reg.register(REGISTRY)  # a registry collects like a collector
    for collector in collectors:
        reg.register(collector)
    return reg


def exposition(*collectors: Collector) -> bytes:
    return generate_latest(scrape_registry(*collectors))
