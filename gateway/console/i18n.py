"""Languages of the console: Simplified Chinese by default, English selectable; dates and
money written the locale's way (2026年12月7日, ¥57.90 / December 7, 2026, CN¥57.90).

The catalogues are ``translations/<locale>/LC_MESSAGES/messages.po`` (Chinese under
``zh_Hans_CN``, the name Babel gives the locale ``zh_CN``), compiled to ``.mo``
and committed (``make translations`` extracts, updates and compiles them; a test checks the
committed ``.mo`` match their ``.po``): nothing is compiled when the gateway runs. Message
ids are the English texts, so English needs no catalogue of its own.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from babel import dates, numbers
from flask import Flask, session
from flask_babel import Babel, get_locale

from gateway.timeutil import BEIJING

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT = "zh_CN"
#: locale -> the language's own name, for the switch
LANGUAGES = {"zh_CN": "中文", "en": "English"}


def current() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT


def configure(app: Flask) -> None:
    Babel(
        app,
        locale_selector=current,
        timezone_selector=lambda: "Asia/Shanghai",
        default_locale=DEFAULT,
        default_translation_directories=str(TRANSLATIONS),
    )
    app.jinja_env.filters.update(money=money, day=day, moment=moment, month=month, hours=hours)
    app.jinja_env.globals.update(languages=LANGUAGES, current_language=current)


def money(fen: int | None) -> str:
    """Integer fen as the locale writes yuan."""
    if fen is None:
        return "–"
    return numbers.format_currency(fen / 100, "CNY", locale=get_locale())


def day(value: date | None) -> str:
    """A business date, the locale's long form (2026年12月7日)."""
    if value is None:
        return "–"
    return dates.format_date(value, "long", locale=get_locale())


def moment(value: datetime | None) -> str:
    """A timestamp in Beijing time: the locale's date and the time to the minute."""
    if value is None:
        return "–"
    local = value.astimezone(BEIJING)
    return f"{dates.format_date(local.date(), 'long', locale=get_locale())} {local:%H:%M}"


def month(period: str) -> str:
    """``YYYYMM`` as the locale names a month (2026年12月, December 2026)."""
    first = date(int(period[:4]), int(period[4:6]), 1)
    return dates.format_skeleton("yMMMM", first, locale=get_locale())


def hours(minutes: int | float | None) -> str:
    if minutes is None:
        return "–"
    return numbers.format_decimal(round(minutes / 60, 1), format="#,##0.0", locale=get_locale())
