"""gunicorn's configuration for the gateway's HTTP API (deploy/README.md):

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

as deploy/systemd/svcard-api.service runs it. Options given on the command line win over
these (``--bind``, ``--workers``). The metrics hooks follow prometheus-client's
multiprocess mode (docs/metrics.md): every worker writes its events to files in
PROMETHEUS_MULTIPROC_DIR and a scrape of /metrics sums them.
"""

import multiprocessing
import os
from pathlib import Path

from prometheus_client import multiprocess

# Behind the host's reverse proxy, which ends TLS and opens /metrics and /readyz to the
# monitoring network only.
bind = "127.0.0.1:8080"

# The API waits on PostgreSQL more than it computes. Each worker has its own connection
# pool (SQLAlchemy's default: 5, and 10 more at a peak): keep workers x 15 under the
# server's max_connections, shared with the RQ workers.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
timeout = 60
graceful_timeout = 30

# Each worker builds its own app (its engine and pool): a pool made before the fork would
# be shared by every worker, and two processes on one PostgreSQL socket corrupt each other.
preload_app = False

# No max_requests: a recycled worker leaves its counters' file behind (summed, as it
# should be) and starts another; the directory would grow with every recycle.

# The app logs every request itself (JSON, with its request id); gunicorn's own messages go
# to stderr, that is the journal.
accesslog = None
errorlog = "-"


def _metrics_dir() -> Path | None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(path) if path else None


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn's Arbiter
    """In the master, before the first worker: empty the metrics directory. The files of
    the previous run's workers would otherwise be summed with the new ones (a reused pid
    would even continue an old file). Only prometheus-client's ``*.db`` files go: a
    directory set by mistake to somewhere shared loses nothing else."""
    directory = _metrics_dir()
    if directory is None:
        server.log.warning(
            "PROMETHEUS_MULTIPROC_DIR is not set: /metrics shows only the events of the worker "
            "that answers the scrape (docs/metrics.md)"
        )
        return
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's Arbiter and Worker
    """In the master, when a worker exits: its live gauges stop counting. Its counters and
    histograms stay, and are summed: they are what happened."""
    if _metrics_dir() is not None:
        multiprocess.mark_process_dead(worker.pid)
