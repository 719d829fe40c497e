"""The RQ queues as Prometheus metrics, read from Redis at scrape time: jobs waiting,
running, failed, scheduled (retries wait there) and deferred, per queue; and the state
collectors a scrape of this runtime answers with (``/metrics``, ``svcard metrics serve``)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.context import Runtime
from gateway.metrics_state import StateCollector
from jobs.queue import QUEUE_NAME, rq_queue


class QueueCollector(Collector):
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url

    def collect(self) -> Iterator:
        jobs = GaugeMetricFamily("svcard_queue_jobs", "RQ jobs by queue and state (queued, started, failed, "
                                 "scheduled: a retry waiting, deferred)", labels=["queue", "state"])  # fmt: skip
        q = rq_queue(self.redis_url)
        jobs.add_metric([QUEUE_NAME, "queued"], q.count)
        for state, registry in (
            ("started", q.started_job_registry),
            ("failed", q.failed_job_registry),
            ("scheduled", q.scheduled_job_registry),
            ("deferred", q.deferred_job_registry),
        ):
            jobs.add_metric([QUEUE_NAME, state], registry.count)
        yield jobs


def state_collectors(rt: Runtime) -> list[Collector]:
    """The database's state, and the queue's when jobs go to Redis."""
    out: list[Collector] = [StateCollector(rt)]
    if rt.settings.redis_url:
        out.append(QueueCollector(rt.settings.redis_url))
    return out
