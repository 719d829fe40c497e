"""The enqueue facade: inline without Redis, RQ with a real Redis and a real worker process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import context
from gateway import settings as settings_mod
from jobs import system
from jobs.queue import enqueue, enqueue_after_commit, job_status


@pytest.fixture
def sqlite_runtime(tmp_path):
    s = settings_mod.load(environ={}, var_dir=tmp_path / "var")
    rt = context.build(s)
    context.install(rt)
    yield rt
    context.install(None)


def test_inline_when_redis_unset(sqlite_runtime):
    handle = enqueue(system.ping, "x")
    assert handle.mode == "inline" and handle.status == "finished"
    assert handle.result["tag"] == "x" and handle.result["pid"] == str(os.getpid())


def test_only_module_level_jobs_functions(sqlite_runtime):
    with pytest.raises(ValueError, match="module-level functions in jobs/"):
        enqueue(len, "x")


def test_enqueue_after_commit_runs_only_on_commit(sqlite_runtime):
    ran = []
    from jobs import queue

    original = queue.enqueue
    queue.enqueue = lambda f, *a, **k: ran.append(a)  # observe without running
    try:
        s = sqlite_runtime.sessions()
        enqueue_after_commit(s, system.ping, "rolled-back")
        s.rollback()
        s.close()
        s = sqlite_runtime.sessions()
        enqueue_after_commit(s, system.ping, "committed")
        s.commit()
        s.close()
    finally:
        queue.enqueue = original
    assert ran == [("committed",)]


@pytest.mark.integration
def test_rq_job_runs_on_a_real_worker_process(tmp_path, redis_url):
    s = settings_mod.load(environ={}, var_dir=tmp_path / "var", redis_url=redis_url)
    rt = context.build(s)
    context.install(rt)
    try:
        handle = enqueue(system.ping, "via-rq")
        assert handle.mode == "rq" and handle.status == "queued"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SVCARD_")}
        env.update(SVCARD_REDIS_URL=redis_url, SVCARD_VAR_DIR=str(tmp_path / "var"))
        svcard = Path(sys.executable).with_name("svcard")
        proc = subprocess.run(
            [str(svcard), "worker", "--burst"], env=env, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        done = job_status(handle.id)
        assert done is not None and done.status == "finished"
        assert done.result["tag"] == "via-rq"
        assert done.result["pid"] != str(os.getpid())  # it ran in the worker process
    finally:
        context.install(None)
