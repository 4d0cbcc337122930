"""structlog setup: readable console on a terminal, one JSON object per line otherwise."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO, cast

import structlog

from shared.redact import redact_event


class _Stderr:
    """``sys.stderr`` as it is when a line is written, not as it was when logging was configured.

    Loggers are cached on first use, each holding the stream it was given. Whoever swaps
    ``sys.stderr`` for a while and closes its replacement (a test's output capture, a command
    runner) would otherwise leave every cached logger writing to a closed file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(fmt: str = "auto", level: str = "INFO", *, service: str = "") -> None:
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Secrets are masked last, once exceptions are text too (shared/redact.py).
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, redact_event, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _Stderr())),
        cache_logger_on_first_use=True,
    )
    # Route the standard library (uvicorn, temporalio, faststream) through the same renderer.
    handler = logging.StreamHandler(cast(TextIO, _Stderr()))
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, redact_event], processor=renderer
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if service:
        structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str = "navcycle") -> Any:
    return structlog.get_logger(name)
