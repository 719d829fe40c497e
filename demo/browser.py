"""The console in a real browser, for the browser tests (tests/console/) and ``make
screenshots``: the gateway's app served on a loopback port in a thread, and Debian's
headless Chromium driven by Selenium through Debian's chromedriver. Nothing downloads a
browser: a machine without the two packages has no browser here (``missing()`` says why).

Selenium is a development dependency: this module is imported by those two only.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from demo.simulation import Demo, DemoOptions
from gateway.api.tokens import create_token
from gateway.app import create_app
from gateway.db import transaction

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

#: Every page of the console a browser opens without a parameter, by name.
PAGES = {
    "overview": "/console/",
    "exchanges": "/console/exchanges",
    "held": "/console/held",
    "volunteers": "/console/volunteers",
    "insurance": "/console/insurance",
    "donations": "/console/donations",
    "statistics": "/console/statistics",
}


def missing() -> str | None:
    """Why no browser can run here, or None."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists() and shutil.which(path.name) is None:
            return f"{path} not found (apt-get install {package})"
    try:
        import selenium  # noqa: F401 - a dev dependency: is it installed?
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@dataclass
class Served:
    url: str  # http://127.0.0.1:PORT
    stop: Callable[[], None]


@contextmanager
def serve(app: Flask) -> Iterator[Served]:
    """``app`` on a free loopback port, in a thread, until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", server.shutdown)
    finally:
        server.shutdown()
        thread.join(timeout=10)


def chromium(width: int = 1440, height: int = 1000):
    """Headless Chromium with its console and network logs kept (for the checks)."""
    # Selenium (a dev dependency) loads here, not with the module: ``missing()`` must be
    # able to say it is absent.
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--lang=zh-CN", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--font-render-hinting=none"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(str(CHROMEDRIVER if CHROMEDRIVER.exists() else shutil.which("chromedriver")))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


def click_and_wait(driver, element, timeout: float = 20) -> None:
    """Click a submit button and wait until the next page has replaced this one: a click
    does not wait for the navigation it starts, and a ``get`` right after it would cancel it."""
    from selenium.webdriver.common.by import By  # a dev dependency (see ``chromium``)
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, timeout).until(expected_conditions.staleness_of(page))
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def sign_in(driver, base_url: str, token: str) -> None:
    from selenium.webdriver.common.by import By  # a dev dependency (see ``chromium``)

    driver.get(base_url + "/console/sign-in")
    driver.find_element(By.NAME, "token").send_keys(token)
    click_and_wait(driver, driver.find_element(By.ID, "sign-in"))


def choose_language(driver, code: str) -> None:
    from selenium.webdriver.common.by import By  # a dev dependency (see ``chromium``)

    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, f"button[data-lang='{code}']"))


def wait_for_charts(driver, timeout: float = 10) -> None:
    """Until console.js has drawn every chart of the page."""
    from selenium.webdriver.support.ui import WebDriverWait  # a dev dependency (see ``chromium``)

    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script(
            "return document.documentElement.getAttribute('data-charts-ready') === '1'"
        )
    )


def demo_app(
    demo_dir: Path,
    *,
    volunteers: int = 60,
    days: int = 31,
    seed: int = 20261128,
    identity_cache: Path | None = None,
) -> Flask:
    """A quiet demo run in ``demo_dir``, then the gateway's app on its data (what
    ``svcard demo --serve`` serves)."""
    demo = Demo(DemoOptions(volunteers=volunteers, days=days, seed=seed, demo_dir=demo_dir, quiet=True,
                            identity_cache=identity_cache), echo=lambda _line: None)  # fmt: skip
    demo.run()
    s = demo.rt.settings
    return create_app({"var_dir": s.var_dir, "database_url": s.database_url, "keys_dir": s.keys_dir,
                       "spool_dir": s.spool_dir})  # fmt: skip


def token(app: Flask, role: str, name: str) -> str:
    """A new API token of ``role`` (the console's sign-in)."""
    with transaction(app.extensions["svcard"].sessions) as session:
        return create_token(session, name=name, role=role)[1]
