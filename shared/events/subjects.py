"""NATS subjects: ``navcycle.events.<program>.<year>.<base>.<type>``, ``_`` for program-wide.

Every event type has exactly two tokens (``plan.filed``), so an event subject always has seven
tokens and filters can use ``*`` per position.
"""

from __future__ import annotations

import re

from shared.events.types import EventType

EVENTS_PREFIX = "navcycle.events"
PROGRAM_WIDE = "_"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InvalidIdentifier(ValueError):
    """An id that cannot be a subject token (dots, spaces, wildcards, empty, too long)."""


def check_token(kind: str, value: str) -> str:
    if not _TOKEN.fullmatch(value):
        raise InvalidIdentifier(
            f"{kind} id {value!r} must be 1-64 characters of letters, digits, '-' or '_'"
        )
    return value


def event_subject(program: str, year: int, base: str | None, event_type: EventType) -> str:
    check_token("program", program)
    base_token = PROGRAM_WIDE if base is None else check_token("base", base)
    return f"{EVENTS_PREFIX}.{program}.{year}.{base_token}.{event_type.value}"


def event_filter(
    program: str | None = None,
    year: int | None = None,
    base: str | None = None,
    event_type: EventType | str | None = None,
) -> str:
    """A subject filter; any part left out matches everything in its position."""
    parts = [
        check_token("program", program) if program else "*",
        str(year) if year is not None else "*",
        check_token("base", base) if base else "*",
    ]
    if event_type is None:
        if parts == ["*", "*", "*"]:
            return f"{EVENTS_PREFIX}.>"
        return ".".join([EVENTS_PREFIX, *parts, "*", "*"])
    return ".".join([EVENTS_PREFIX, *parts, EventType(event_type).value])


def rpc_subject(service: str, action: str) -> str:
    return f"navcycle.rpc.{service}.{action}"
