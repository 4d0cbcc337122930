"""Log lines go to ``sys.stderr`` as it is when they are written.

Loggers are cached on first use. A test's output capture, or a command runner, swaps
``sys.stderr`` and closes its replacement afterwards; a logger configured or first used meanwhile
must not be left writing to the closed file (it made an unrelated later test fail, depending on
the order the tests ran in).
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest
import structlog

from shared.logging import configure_logging, get_logger


@pytest.fixture
def restored_logging() -> Iterator[None]:
    saved_config, root = structlog.get_config(), logging.getLogger()
    saved_handlers, saved_level, saved_stderr = root.handlers[:], root.level, sys.stderr
    try:
        yield
    finally:
        sys.stderr = saved_stderr
        structlog.configure(**saved_config)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.contextvars.clear_contextvars()


def test_a_logger_outlives_the_stderr_it_was_configured_under(restored_logging: None) -> None:
    borrowed = io.StringIO()
    sys.stderr = borrowed
    configure_logging("json", "INFO", service="logging-test")
    log = get_logger("logging-test")
    log.info("while.borrowed")
    logging.getLogger("logging-test.stdlib").warning("stdlib while borrowed")
    sys.stderr = later = io.StringIO()
    borrowed.close()

    log.warning("after.closed")  # the cached logger: raised ValueError (closed file) before
    logging.getLogger("logging-test.stdlib").warning("stdlib after closed")

    assert later.getvalue().count("\n") == 2
    assert '"event": "after.closed"' in later.getvalue()
    assert "stdlib after closed" in later.getvalue()
