"""`make screenshots`: PNGs of every console page in both languages, on a fresh demo run,
into the folder given (docs/console/). Headless Chromium (Debian's) through Selenium, as
the browser tests drive it (demo.browser).

    python scripts/screenshots.py docs/console [--volunteers 120]
"""

from __future__ import annotations

import argparse
import base64
import shutil
import sys
import time
from pathlib import Path

from selenium.webdriver.common.by import By

from demo import browser

ROOT = Path(__file__).resolve().parent.parent
LANGS = {"zh_CN": "zh", "en": "en"}


def capture(driver, path: Path) -> None:
    """The whole page, beyond the window's height."""
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path.write_bytes(base64.b64decode(shot["data"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--volunteers", type=int, default=120)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "screenshots")
    args = parser.parse_args()
    why = browser.missing()
    if why:
        print(f"screenshots: no browser here: {why}", file=sys.stderr)
        return 1
    if args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: a demo month with {args.volunteers} volunteers in {args.work} ...")
    app = browser.demo_app(args.work / "demo", volunteers=args.volunteers, identity_cache=args.work / "ids")
    token = browser.token(app, "operator", "screenshots")
    pages = dict(browser.PAGES)
    with browser.serve(app) as served:
        driver = browser.chromium(width=1440, height=900)
        try:
            browser.sign_in(driver, served.url, token)
            driver.get(served.url + "/console/volunteers")
            pages["volunteer"] = driver.find_element(By.CSS_SELECTOR, "#volunteers td a").get_attribute(
                "href"
            )
            for lang, suffix in LANGS.items():
                browser.choose_language(driver, lang)
                for name, path in pages.items():
                    driver.get(path if path.startswith("http") else served.url + path)
                    browser.wait_for_charts(driver)
                    time.sleep(1.2)  # ECharts' opening animation
                    target = args.out / f"{name}-{suffix}.png"
                    capture(driver, target)
                    print(
                        f"screenshots: {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}"
                    )
        finally:
            driver.quit()
    app.extensions["svcard"].engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
