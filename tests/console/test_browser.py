"""The console in headless Chromium on the demo's data: every page in both languages with
no console error and no request to another host, charts with data points, the operator's
actions through the UI (acknowledge an alert, release and discard held events, replay a
file), CSRF, the auditor's read-only view, expiry, and bad input re-rendered."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from demo import browser
from gateway.models import Alert, HeldEvent
from gateway.models.exchange import ExchangeFile
from gateway.timeutil import reset_clock, travel_to, utcnow
from tests.console.conftest import console_errors, requested_hosts

pytestmark = pytest.mark.slow

CHARTS = {"overview": 2, "insurance": 1, "donations": 2, "statistics": 3}
# Labels each page's navigation shows, per language: proof the catalogue was used.
NAV = {"zh_CN": ("总览", "文件交换", "服务统计"), "en": ("Overview", "Exchanges", "Service statistics")}


def _session(app):
    return app.extensions["svcard"].sessions()


def _open_alert(app) -> int:
    """An open alert's id (the demo's month leaves some)."""
    with _session(app) as s:
        alert_id = s.scalar(select(Alert.id).where(Alert.resolved_at.is_(None)).limit(1))
    assert alert_id, "the demo's month leaves open alerts"
    return alert_id


def _still_open(app, alert_id: int) -> bool:
    with _session(app) as s:
        return s.get(Alert, alert_id).resolved_at is None


def _text(d) -> str:
    return d.find_element(By.TAG_NAME, "body").text


def _submit(form, **fields: str) -> None:
    for name, value in fields.items():
        box = form.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    browser.click_and_wait(form.parent, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def test_every_page_renders_in_both_languages_with_charts_and_nothing_from_other_hosts(fresh, server, tokens):
    d = fresh
    browser.sign_in(d, server.url, tokens["operator"])
    host = server.url.split("//", 1)[1]
    for lang in ("zh_CN", "en"):
        browser.choose_language(d, lang)
        for name, path in browser.PAGES.items():
            d.get(server.url + path)
            browser.wait_for_charts(d)
            text = _text(d)
            assert all(label in text for label in NAV[lang]), (lang, name)
            charts = d.find_elements(By.CSS_SELECTOR, ".chart")
            assert len(charts) == CHARTS.get(name, 0), name
            for c in charts:
                assert int(c.get_attribute("data-points") or 0) > 0, (name, c.get_attribute("id"))
                # drawn: ECharts put its canvas in the box
                assert c.find_elements(By.TAG_NAME, "canvas"), (name, c.get_attribute("id"))
            assert console_errors(d) == [], (lang, name)
        assert requested_hosts(d) <= {host}, lang
    # Dates and money the locale's way (the overview's business date, the donations' sums).
    d.get(server.url + "/console/donations")
    assert re.search(r"CN¥\d[\d,]*\.\d\d", _text(d)) and re.search(r"[A-Z][a-z]+ \d{1,2}, \d{4}", _text(d))
    browser.choose_language(d, "zh_CN")
    d.get(server.url + "/console/donations")
    assert re.search(r"(?<!CN)¥\d[\d,]*\.\d\d", _text(d)) and re.search(
        r"\d{4}年\d{1,2}月\d{1,2}日", _text(d)
    )


def test_charts_carry_the_demos_figures(fresh, server, tokens):
    d = fresh
    browser.sign_in(d, server.url, tokens["operator"])

    def values(page: str, chart: str) -> list[float]:
        d.get(server.url + browser.PAGES[page])
        browser.wait_for_charts(d)
        return d.execute_script(
            "var o = echarts.getInstanceByDom(document.getElementById(arguments[0])).getOption();"
            "return o.series[0].data.map(function (p) { return typeof p === 'object' && !Array.isArray(p) ? p.value"
            " : (Array.isArray(p) ? p[2] : p); });",
            chart,
        )

    funnel = values("overview", "chart-funnel")
    assert len(funnel) == 7 and funnel[0] >= funnel[-1] > 0 and funnel == sorted(funnel, reverse=True)
    assert sum(values("statistics", "chart-districts")) > 0
    assert sum(values("statistics", "chart-map")) > 0
    assert sum(values("donations", "chart-classes")) > 0


def test_acknowledge_an_alert_with_a_comment(fresh, server, tokens, console_app):
    d = fresh
    browser.sign_in(d, server.url, tokens["operator"])
    with _session(console_app) as s:
        alert_id = s.scalar(
            select(Alert.id).where(Alert.resolved_at.is_(None)).order_by(Alert.id.desc()).limit(1)
        )
    assert alert_id, "the demo's month leaves open alerts"
    d.get(server.url + "/console/")
    # A note of blanks is no note: the page comes back with the message next to the field.
    _submit(d.find_element(By.ID, f"ack-{alert_id}"), note="   ")
    assert d.find_element(By.CSS_SELECTOR, f"#ack-{alert_id} .error[data-field=note]").text
    assert _still_open(console_app, alert_id)
    _submit(d.find_element(By.ID, f"ack-{alert_id}"), note="bank confirmed by phone")
    assert f"#{alert_id}" not in [r.text for r in d.find_elements(By.CSS_SELECTOR, "#alerts td:first-child")]
    assert d.find_elements(By.ID, f"alert-{alert_id}") == []
    with _session(console_app) as s:
        alert = s.get(Alert, alert_id)
        assert alert.resolved_at is not None and "bank confirmed by phone" in alert.message


def test_release_and_discard_held_events(fresh, server, tokens, console_app):
    d = fresh
    browser.sign_in(d, server.url, tokens["operator"])
    with _session(console_app) as s:
        held = {h.card_id: h.id for h in s.scalars(select(HeldEvent).where(HeldEvent.status == "HELD"))}
    fits, never = held["6217850000009901"], held["6217850000009902"]
    d.get(server.url + "/console/held")
    # Releasing an event that still does not fit: refused, the reason next to the field.
    form = d.find_element(By.ID, f"held-form-{never}")
    form.find_element(By.NAME, "note").send_keys("try it")
    browser.click_and_wait(d, form.find_element(By.CSS_SELECTOR, "button.release"))
    assert "unknown" in d.find_element(By.CSS_SELECTOR, f"#held-form-{never} .error").text
    form = d.find_element(By.ID, f"held-form-{fits}")
    form.find_element(By.NAME, "note").send_keys("PRODUCED arrived after it")
    browser.click_and_wait(d, form.find_element(By.CSS_SELECTOR, "button.release"))
    assert d.find_elements(By.ID, f"held-{fits}") == []
    form = d.find_element(By.ID, f"held-form-{never}")
    form.find_element(By.NAME, "note").send_keys("bank error, confirmed by phone")
    browser.click_and_wait(d, form.find_element(By.CSS_SELECTOR, "button.discard"))
    assert d.find_elements(By.ID, f"held-{never}") == []
    d.get(server.url + "/console/held?status=RELEASED")
    assert "PRODUCED arrived after it" in d.find_element(By.ID, f"held-{fits}").text
    with _session(console_app) as s:
        assert s.get(HeldEvent, fits).status == "RELEASED" and s.get(HeldEvent, never).status == "DISCARDED"


def test_replay_a_rejected_file(fresh, server, tokens, console_app):
    d = fresh
    browser.sign_in(d, server.url, tokens["operator"])
    with _session(console_app) as s:
        file_id = s.scalar(
            select(ExchangeFile.id).where(ExchangeFile.name == "CARDRESULT_BOCSZ_20261120_009.txt")
        )
    d.get(server.url + "/console/exchanges?status=rejected")
    browser.click_and_wait(d, d.find_element(By.CSS_SELECTOR, f"#file-{file_id} a"))
    _submit(d.find_element(By.ID, "replay-form"), comment="new BOCSZ certificate pinned")
    assert "new BOCSZ certificate pinned" in d.find_element(By.ID, "file-comment").text
    with _session(console_app) as s:
        row = s.get(ExchangeFile, file_id)
        # The bytes are still no envelope: processed again and rejected again (E01), the
        # operator's comment kept on the file with who replayed it.
        assert (
            row.status == "rejected" and row.ack_code == "E01" and "console:console-operator" in row.comment
        )
    assert "E01" in d.find_element(By.ID, "file-ack").text


def test_a_post_without_its_csrf_token_is_refused(fresh, server, tokens, console_app):
    d = fresh
    browser.sign_in(d, server.url, tokens["operator"])
    alert_id = _open_alert(console_app)
    d.get(server.url + "/console/")
    d.execute_script(f"document.querySelector('#ack-{alert_id} [name=csrf_token]').remove()")
    _submit(d.find_element(By.ID, f"ack-{alert_id}"), note="forged")
    assert d.find_element(By.ID, "refused").text
    assert _still_open(console_app, alert_id)


def test_the_auditor_sees_masked_data_and_cannot_act(fresh, server, tokens, console_app):
    d = fresh
    browser.sign_in(d, server.url, tokens["auditor"])
    d.get(server.url + "/console/")
    assert d.find_elements(By.CSS_SELECTOR, "form.action") == []
    d.get(server.url + "/console/volunteers")
    browser.click_and_wait(d, d.find_element(By.CSS_SELECTOR, "#volunteers td a"))
    assert "*" in d.find_element(By.ID, "person-name").text and d.find_elements(By.ID, "unmask-form") == []
    # A hand-made POST with a valid CSRF token (the language switch's) is refused all the same.
    alert_id = _open_alert(console_app)
    status = d.execute_script(
        "var t = document.querySelector('[name=csrf_token]').value;"
        "var x = new XMLHttpRequest(); x.open('POST', arguments[0], false);"
        "x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');"
        "x.send('csrf_token=' + encodeURIComponent(t) + '&note=auditor'); return x.status;",
        f"/console/alerts/{alert_id}/acknowledge",
    )
    assert status == 403
    assert _still_open(console_app, alert_id)


def test_the_operator_unmasks_with_a_reason_and_it_is_audited(fresh, server, tokens, console_app):
    from gateway.models.api import AuditEntry

    d = fresh
    browser.sign_in(d, server.url, tokens["operator"])
    d.get(server.url + "/console/volunteers")
    browser.click_and_wait(d, d.find_element(By.CSS_SELECTOR, "#volunteers td a"))
    masked = d.find_element(By.ID, "person-name").text
    assert "*" in masked
    _submit(d.find_element(By.ID, "unmask-form"), reason="the volunteer called about a card")
    assert d.find_element(By.ID, "unmasked") and "*" not in d.find_element(By.ID, "person-name").text
    with _session(console_app) as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert entry.reason == "the volunteer called about a card" and "name" in entry.fields_revealed


def test_bad_filter_values_come_back_with_the_message_next_to_the_field(fresh, server, tokens):
    d = fresh
    browser.sign_in(d, server.url, tokens["operator"])
    d.get(server.url + "/console/statistics?period=2026x")
    assert d.find_element(By.CSS_SELECTOR, ".field.invalid .error[data-field=period]").text
    d.get(server.url + "/console/donations?period=202613")
    assert d.find_element(By.CSS_SELECTOR, ".field.invalid .error[data-field=period]").text
    d.get(server.url + "/console/insurance?volunteer_no=12")
    assert d.find_element(By.CSS_SELECTOR, ".error[data-field=volunteer_no]").text


def test_only_operators_and_auditors_sign_in(fresh, server, tokens):
    d = fresh
    browser.sign_in(d, server.url, tokens["platform"])
    assert d.find_element(By.CSS_SELECTOR, ".error[data-field=token]").text
    browser.sign_in(d, server.url, "svc_not-a-token")
    assert d.find_element(By.CSS_SELECTOR, ".error[data-field=token]").text
    d.get(server.url + "/console/held")
    assert d.current_url.startswith(server.url + "/console/sign-in")


def test_the_sign_in_expires(fresh, server, tokens, console_app):
    d = fresh
    browser.sign_in(d, server.url, tokens["operator"])
    d.get(server.url + "/console/held")
    assert d.find_elements(By.ID, "sign-out")
    minutes = console_app.extensions["svcard"].settings.console_session_minutes
    travel_to(utcnow() + timedelta(minutes=minutes, seconds=5))
    try:
        d.get(server.url + "/console/held")
        assert d.current_url.startswith(server.url + "/console/sign-in") and d.find_element(By.ID, "expired")
    finally:
        reset_clock()
