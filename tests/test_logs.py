"""The last-line PII mask of gateway.logs: what reaches the log stream."""

from __future__ import annotations

import io
import json
import logging

from gateway import settings as settings_mod
from gateway.logs import PiiMaskFilter, TextFormatter, bind, install_masking, json_formatter

RIC = "44030119900101123X"
MOBILE = "13912345678"


def _captured(
    name: str,
    emit,
    *,
    formatter: logging.Formatter | None = None,
    handler_filter: logging.Filter | None = None,
    level: int | None = None,
    propagate: bool | None = None,
) -> str:
    """What ``emit(log)`` writes to a handler of its own on the logger ``name``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    if formatter is not None:
        handler.setFormatter(formatter)
    if handler_filter is not None:
        handler.addFilter(handler_filter)
    log = logging.getLogger(name)
    log.addHandler(handler)
    if level is not None:
        log.setLevel(level)
    if propagate is not None:
        log.propagate = propagate
    try:
        emit(log)
    finally:
        log.removeHandler(handler)
    return stream.getvalue()


def _logged(emit) -> str:
    """Through a handler with our PII filter."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return _captured(
        "tests.logs.mask", emit, formatter=formatter, handler_filter=PiiMaskFilter(), propagate=False
    )


def test_message_is_masked():
    out = _logged(lambda log: log.warning("volunteer %s mobile %s", RIC, MOBILE))
    assert RIC not in out and MOBILE not in out
    assert "440301********123X" in out and "139****5678" in out


def test_traceback_of_a_logged_exception_is_masked():
    # log.exception prints the exception's text after the message: an error raised with
    # an id number or mobile in it must be masked there too.
    def emit(log: logging.Logger) -> None:
        try:
            raise ValueError(f"no volunteer with id {RIC} or mobile {MOBILE}")
        except ValueError:
            log.exception("import failed")

    out = _logged(emit)
    assert "Traceback" in out and "ValueError" in out
    assert RIC not in out and MOBILE not in out
    assert "440301********123X" in out


def test_records_are_masked_at_creation_whatever_handler_prints_them():
    install_masking()
    # a handler without our filter, as RQ's are
    out = _captured(
        "rq.worker.test",
        lambda log: log.info("volunteer %s mobile %s", "440303198506120872", "13760012345"),
        level=logging.INFO,
    )
    assert "440303198506120872" not in out and "13760012345" not in out
    assert "440303********0872" in out


def _formatted(formatter: logging.Formatter, emit) -> str:
    install_masking()  # the record factory sets the context fields
    return _captured("tests.logs.context", emit, formatter=formatter, level=logging.DEBUG, propagate=False)


def test_json_lines_carry_the_context_of_the_block_and_stay_masked():
    def emit(log: logging.Logger) -> None:
        with bind(partner="BOCSZ", file_id=12), bind(job_id="j-1"):
            log.warning("applied for %s", RIC)
        log.info("outside")

    first, second = (json.loads(line) for line in _formatted(json_formatter(), emit).splitlines())
    assert first["partner"] == "BOCSZ" and first["file_id"] == 12 and first["job_id"] == "j-1"
    assert first["level"] == "WARNING" and first["logger"] == "tests.logs.context" and first["time"]
    assert first["message"] == "applied for 440301********123X"
    assert second["partner"] is None and second["job_id"] is None  # the block ended


def test_a_librarys_extra_naming_a_context_field_is_taken_not_refused():
    # RQ logs a failing job with extra={"job_id": ...}: the stdlib refused it (KeyError)
    # once our record factory had set job_id, inside RQ's failure handling.
    def emit(log: logging.Logger) -> None:
        with bind(job_id="ours", partner="SZT"):
            log.error("job failed", extra={"job_id": "rqs", "queue": "svcard"})

    (line,) = _formatted(json_formatter(), emit).splitlines()
    record = json.loads(line)
    assert (record["job_id"], record["partner"], record["queue"]) == ("rqs", "SZT", "svcard")


def test_text_lines_end_with_their_context():
    def emit(log: logging.Logger) -> None:
        with bind(request_id="abc", partner="SZT"):
            log.warning("one")
        log.warning("two")

    one, two = _formatted(TextFormatter(), emit).splitlines()
    assert one.endswith("one [request_id=abc partner=SZT]") and two.endswith("two")


def test_json_is_the_production_default():
    def style(env: dict[str, str]) -> str:
        base = {"SVCARD_DATA_KEY": "A" * 43 + "=", "SVCARD_LOOKUP_KEY": "B" * 43 + "=",
                "SVCARD_ARCHIVE_KEY": "C" * 43 + "=", "SVCARD_KEY_PASSPHRASE": "a-long-passphrase",
                "SVCARD_CONSOLE_SECRET": "c" * 32, "SVCARD_DATABASE_URL": "postgresql://db/svcard"}  # fmt: skip
        return settings_mod.load(environ={**base, **env}).log_style

    assert style({"SVCARD_ENV": "production"}) == "json"
    assert style({"SVCARD_ENV": "production", "SVCARD_LOG_FORMAT": "text"}) == "text"
    assert style({}) == "text"
