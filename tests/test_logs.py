"""The last-line PII mask of gateway.logs: what reaches the log stream."""

from __future__ import annotations

import io
import logging

from gateway.logs import PiiMaskFilter

RIC = "44030119900101123X"
MOBILE = "13912345678"


def _logged(emit) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PiiMaskFilter())
    log = logging.getLogger("tests.logs.mask")
    log.addHandler(handler)
    log.propagate = False
    try:
        emit(log)
    finally:
        log.removeHandler(handler)
    return stream.getvalue()


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
    import io
    import logging

    from gateway.logs import install_masking

    install_masking()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # a handler without our filter, as RQ's are
    log = logging.getLogger("rq.worker.test")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("volunteer %s mobile %s", "440303198506120872", "13760012345")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "440303198506120872" not in out and "13760012345" not in out
    assert "440303********0872" in out
