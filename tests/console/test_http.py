"""The console over HTTP (Flask's test client, no browser): the session cookie's flags and
expiry, CSRF on every POST, the security headers, roles, both languages, and the compiled
catalogues matching their sources. On SQLite and PostgreSQL, like the API's tests."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from gateway.timeutil import reset_clock, travel_to, utcnow

PAGES = ("/console/", "/console/exchanges", "/console/held", "/console/volunteers", "/console/insurance",
         "/console/donations", "/console/statistics")  # fmt: skip


@pytest.fixture
def app(runtime) -> Flask:
    from gateway.app import create_app

    app = create_app({f.name: getattr(runtime.settings, f.name) for f in fields(runtime.settings)})
    yield app
    app.extensions["svcard"].engine.dispose()


@pytest.fixture
def token(app: Flask):
    from gateway.api.tokens import create_token
    from gateway.db import transaction

    def make(role: str) -> str:
        with transaction(app.extensions["svcard"].sessions) as s:
            return create_token(s, name=f"http-{role}", role=role)[1]

    return make


def csrf(client: FlaskClient, path: str = "/console/sign-in") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def sign_in(client: FlaskClient, token: str):
    return client.post("/console/sign-in", data={"token": token, "csrf_token": csrf(client)})


def test_sign_in_sets_a_strict_http_only_cookie_and_every_page_is_secured(app, token) -> None:
    client = app.test_client()
    r = sign_in(client, token("operator"))
    assert r.status_code == 302 and r.headers["Location"] == "/console/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # development; production sets it (next test)
    for path in (*PAGES, "/console/sign-in", "/console/static/console.js"):
        r = client.get(path)
        assert r.status_code == 200, path
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0], path
        assert r.headers["X-Content-Type-Options"] == "nosniff", path
        html = r.get_data(as_text=True)
        assert "<script>" not in html and not re.search(r"<[^>]+\son[a-z]+=", html), path


def test_the_cookie_is_secure_in_production(app) -> None:
    from gateway.console import security

    probe = Flask("probe")
    settings = app.extensions["svcard"].settings
    security.configure(probe, type(settings)(**{**{f.name: getattr(settings, f.name) for f in fields(settings)},
                                                "env": "production"}))  # fmt: skip
    assert probe.config["SESSION_COOKIE_SECURE"] is True


def test_pages_need_a_sign_in_and_only_readers_get_one(app, token) -> None:
    client = app.test_client()
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/console/sign-in"), path
    for role in ("platform", "admin"):
        r = sign_in(client, token(role))
        assert r.status_code == 422 and 'data-field="token"' in r.get_data(as_text=True), role
    assert sign_in(client, "svc_nothing").status_code == 422
    assert client.get("/console/held").status_code == 302


def test_a_post_without_a_csrf_token_is_refused(app, token) -> None:
    client = app.test_client()
    sign_in(client, token("operator"))
    r = client.post("/console/alerts/1/acknowledge", data={"note": "forged"})
    assert r.status_code == 400 and 'id="refused"' in r.get_data(as_text=True)
    assert client.post("/console/sign-out").status_code == 400
    # Signing in without one is refused too (a login CSRF).
    fresh = app.test_client()
    assert fresh.post("/console/sign-in", data={"token": token("auditor")}).status_code == 400


def test_the_auditor_may_press_nothing(app, token) -> None:
    from gateway.db import transaction
    from gateway.models.exchange import Alert

    with transaction(app.extensions["svcard"].sessions) as s:
        alert = Alert(kind="file_missing", partner=None, message="test alert")
        s.add(alert)
        s.flush()
        alert_id = alert.id
    client = app.test_client()
    sign_in(client, token("auditor"))
    page = client.get("/console/").get_data(as_text=True)
    assert "test alert" in page and f'id="ack-{alert_id}"' not in page
    r = client.post(
        f"/console/alerts/{alert_id}/acknowledge", data={"note": "x", "csrf_token": csrf(client, "/console/")}
    )
    assert r.status_code == 403
    operator = app.test_client()
    sign_in(operator, token("operator"))
    r = operator.post(
        f"/console/alerts/{alert_id}/acknowledge",
        data={"note": " ", "csrf_token": csrf(operator, "/console/")},
    )
    assert r.status_code == 422 and 'data-field="note"' in r.get_data(as_text=True)
    r = operator.post(
        f"/console/alerts/{alert_id}/acknowledge",
        data={"note": "done", "csrf_token": csrf(operator, "/console/")},
    )
    assert r.status_code == 302
    with app.extensions["svcard"].sessions() as s:
        assert s.get(Alert, alert_id).resolved_at is not None


def test_the_sign_in_expires_and_a_revoked_token_ends_it(app, token) -> None:
    from gateway.api.tokens import revoke_token
    from gateway.db import transaction

    client = app.test_client()
    sign_in(client, token("operator"))
    assert client.get("/console/held").status_code == 200
    travel_to(
        utcnow() + timedelta(minutes=app.extensions["svcard"].settings.console_session_minutes, seconds=1)
    )
    try:
        r = client.get("/console/held")
        assert r.status_code == 302 and "why=expired" in r.headers["Location"]
    finally:
        reset_clock()
    sign_in(client, token("auditor"))
    assert client.get("/console/held").status_code == 200
    with transaction(app.extensions["svcard"].sessions) as s:
        revoke_token(s, "http-auditor")
    r = client.get("/console/held")
    assert r.status_code == 302 and "why=revoked" in r.headers["Location"]


def test_chinese_by_default_english_on_request(app, token) -> None:
    client = app.test_client()
    sign_in(client, token("operator"))
    page = client.get("/console/").get_data(as_text=True)
    assert "总览" in page and 'lang="zh-CN"' in page and re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page)
    r = client.post(
        "/console/language",
        data={"lang": "en", "next": "/console/held", "csrf_token": csrf(client, "/console/")},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/console/held"
    page = client.get("/console/").get_data(as_text=True)
    assert "Overview" in page and "总览" not in page and 'lang="en"' in page


def test_money_and_dates_per_locale(app) -> None:
    from datetime import date

    from gateway.console import i18n

    with app.test_request_context("/console/"):
        from flask import session

        assert (i18n.money(5790), i18n.day(date(2026, 12, 7))) == ("¥57.90", "2026年12月7日")
        session["lang"] = "en"
        from flask_babel import refresh

        refresh()
        assert (i18n.money(5790), i18n.day(date(2026, 12, 7))) == ("CN¥57.90", "December 7, 2026")


def test_the_committed_catalogues_are_compiled_from_their_sources() -> None:
    root = Path(__file__).resolve().parents[2] / "gateway" / "console" / "translations"
    pos = sorted(root.glob("*/LC_MESSAGES/messages.po"))
    assert pos, "a catalogue is committed"
    for po_path in pos:
        po = read_po(po_path.open("rb"))
        mo = read_mo(po_path.with_suffix(".mo").open("rb"))
        source = {m.id: m.string for m in po if m.id and not m.fuzzy}
        compiled = {m.id: m.string for m in mo if m.id}
        assert compiled == source, f"{po_path}: run `make translations`"
        assert all(source.values()), f"{po_path}: untranslated messages"


def test_a_failed_job_is_retried_with_a_reason_and_refused_without_one(runtime, redis_url) -> None:
    from redis import Redis
    from rq import Queue, SimpleWorker
    from rq.job import Job, JobStatus

    from gateway.api.tokens import create_token
    from gateway.app import create_app
    from gateway.db import transaction

    config = {f.name: getattr(runtime.settings, f.name) for f in fields(runtime.settings)}
    app = create_app({**config, "redis_url": redis_url})
    try:
        with transaction(app.extensions["svcard"].sessions) as s:
            token = create_token(s, name="http-operator", role="operator")[1]
        conn = Redis.from_url(redis_url)
        q = Queue("svcard", connection=conn)
        # a job that fails on a real (in-process) worker: RQ records the failed run
        job = q.enqueue("jobs.system.ping", "one", "two")  # ping takes one tag: TypeError
        SimpleWorker([q], connection=conn).work(burst=True)
        assert job.get_status(refresh=True) == JobStatus.FAILED

        client = app.test_client()
        sign_in(client, token)
        page = client.get("/console/exchanges").get_data(as_text=True)
        assert job.id in page and "TypeError" in page  # the failure's last line
        blank = client.post(
            f"/console/jobs/{job.id}/retry",
            data={"note": "  ", "csrf_token": csrf(client, "/console/exchanges")},
        )
        assert blank.status_code == 422
        assert re.search(r'class="error" data-field="note"', blank.get_data(as_text=True))
        assert job.id in q.failed_job_registry.get_job_ids() and job.id not in q.job_ids  # nothing requeued

        done = client.post(
            f"/console/jobs/{job.id}/retry",
            data={"note": "SZT is back", "csrf_token": csrf(client, "/console/exchanges")},
        )
        assert done.status_code == 302
        assert job.id in q.job_ids and job.id not in q.failed_job_registry.get_job_ids()
        assert Job.fetch(job.id, connection=conn).meta["retried_by"] == [
            {"actor": "console:http-operator", "reason": "SZT is back"}
        ]
    finally:
        app.extensions["svcard"].engine.dispose()
