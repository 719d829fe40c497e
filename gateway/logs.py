"""Logging set-up with a last-line PII mask.

Code must not log PII in the first place; this filter is the safety net that masks what
looks like an ID number, a mobile number or a card number if one slips into a message.
"""

from __future__ import annotations

import logging
import re
import sys

_PATTERNS = [
    # 18-character RIC number (17 digits + check character)
    (re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])"), r"\1********\2"),
    # mainland mobile
    (re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),
    # a full 16-19 digit PAN
    (re.compile(r"(?<!\d)(\d{6})\d{6,9}(\d{4})(?!\d)"), r"\1******\2"),
]


def mask_text(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class PiiMaskFilter(logging.Filter):
    """Masks the message, and the traceback and stack printed after it (an exception's
    text may hold a value that slipped in, and ``log.exception`` prints it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # The formatter prints exc_text when set, and formats exc_info only when not.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


_MASK = PiiMaskFilter()
_factory_installed = False


def install_masking() -> None:
    """Mask every log record as it is created, whichever handler prints it later (RQ's
    workers bring their own handlers, without our filter)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _MASK.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted: command-line test
    runners swap it, and a handler holding an old, closed stream would fail."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(level: str = "INFO") -> None:
    install_masking()
    root = logging.getLogger()
    if not any(isinstance(f, PiiMaskFilter) for h in root.handlers for f in h.filters):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(PiiMaskFilter())
        root.addHandler(handler)
    root.setLevel(level)
    # Alembic announces its internal plugins at INFO on import: noise for an operator.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
