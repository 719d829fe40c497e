"""Logging set-up: a last-line PII mask, the context of every record, JSON in production.

Code must not log PII in the first place; the mask is the safety net that masks what
looks like an ID number, a mobile number or a card number if one slips into a message.

Every record carries the context it was logged in — the request id (API), the job id (a
job), the partner and the exchange file id (an exchange) — from ``bind()``, which sets
them for a block of code (context variables: a thread, a request, a job each have their
own). In production each record is one JSON object a line (python-json-logger: a
formatter on the standard ``logging`` every library here already logs through, where
structlog would need its own pipeline beside it); in development a human line, with the
context appended.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from pythonjsonlogger.json import JsonFormatter

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


#: What a record may carry of its context; always set on a record (None outside one).
CONTEXT_FIELDS = ("request_id", "job_id", "partner", "file_id")
_CONTEXT = {name: contextvars.ContextVar(f"svcard_log_{name}", default=None) for name in CONTEXT_FIELDS}


@contextmanager
def bind(**fields: object) -> Iterator[None]:
    """Log the block's records with these context fields (e.g. ``bind(partner="BOCSZ",
    file_id=12)``); the previous values come back after it."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"unknown log context field(s): {sorted(unknown)}")
    tokens = [(_CONTEXT[name], _CONTEXT[name].set(value)) for name, value in fields.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_context() -> dict[str, object]:
    return {name: var.get() for name, var in _CONTEXT.items() if var.get() is not None}


_MASK = PiiMaskFilter()
_factory_installed = False


def install_masking() -> None:
    """Mask every log record as it is created, and give it its context, whichever handler
    prints it later (RQ's workers bring their own handlers, without our filter)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        for name, var in _CONTEXT.items():
            setattr(record, name, var.get())
        _MASK.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    logging.Logger.makeRecord = _make_record_taking_context_extra(logging.Logger.makeRecord)
    _factory_installed = True


def _make_record_taking_context_extra(make_record):  # noqa: ANN001, ANN202
    """``Logger.makeRecord`` refuses an ``extra`` key the record already has, and the
    factory above gives every record the context fields: RQ's worker logs a failing job
    with ``extra={"job_id": ...}``, which then raised KeyError inside its failure handling
    (in the work horse: the job's own exception was lost, the horse died). A library's
    context field in ``extra`` now wins over the context's, as it would without us."""

    def wrapped(self, name, level, fn, lno, msg, args, exc_info, func=None, extra=None, sinfo=None):  # noqa: ANN001, ANN202, PLR0913
        given = {k: extra[k] for k in CONTEXT_FIELDS if k in extra} if extra else {}
        if given:
            extra = {k: v for k, v in extra.items() if k not in given}
        record = make_record(self, name, level, fn, lno, msg, args, exc_info, func, extra, sinfo)
        for key, value in given.items():
            setattr(record, key, value)
        return record

    return wrapped


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted: command-line test
    runners swap it, and a handler holding an old, closed stream would fail."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class TextFormatter(logging.Formatter):
    """A human line, with the record's context at its end (``[partner=BOCSZ file_id=12]``)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{n}={getattr(record, n)}" for n in CONTEXT_FIELDS if getattr(record, n, None))
        if not context:
            return line
        head, sep, rest = line.partition("\n")  # the traceback stays below the line
        return f"{head} [{context}]{sep}{rest}"


def json_formatter() -> logging.Formatter:
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the context
    fields, and the traceback when there is one."""
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s " + " ".join(f"%({n})s" for n in CONTEXT_FIELDS),
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_ensure_ascii=False,
    )


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Log to stderr at ``level``, as ``text`` (human lines) or ``json`` (one object a line)."""
    install_masking()
    root = logging.getLogger()
    formatter = json_formatter() if fmt == "json" else TextFormatter()
    ours = [h for h in root.handlers if any(isinstance(f, PiiMaskFilter) for f in h.filters)]
    if not ours:
        handler = _StderrHandler()
        handler.addFilter(PiiMaskFilter())
        root.addHandler(handler)
        ours = [handler]
    for handler in ours:
        handler.setFormatter(formatter)
    root.setLevel(level)
    # Alembic announces its internal plugins at INFO on import: noise for an operator.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
