"""Operator actions as ``operator.action`` events on the event log: the audit trail.

Every action an operator takes (users and tokens, program rules, resets) is recorded with who
did it, what, on which target, why and with which arguments. Never a token or a secret: an
argument whose name says it holds one is refused before anything is published.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
import socket
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from nats.js import JetStreamContext

from shared.contracts.registry import PinnedRules, RulesApplied
from shared.events.envelope import CloudEvent, new_event
from shared.events.payloads import OperatorAction
from shared.events.subjects import PROGRAM_WIDE
from shared.events.types import EventType
from shared.publisher import EventPublisher

SOURCE = "navcycle/operator"
Via = Literal["cli", "api"]
_SECRET_NAME = re.compile(r"token|secret|password|passwd|authorization|credential|api_?key", re.I)


class SecretInAudit(ValueError):
    """An audit argument named like a secret: a programming error, caught before publishing."""


def rules_applied(applied: RulesApplied, pinned: PinnedRules) -> dict[str, Any]:
    """The arguments of a rules change: the version, and a digest of the rules as stored, so
    the record names exactly what was applied whichever way it arrived."""
    stored = pinned.rules.model_dump(mode="json", by_alias=True)
    canonical = json.dumps(stored, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return {
        "version": applied.version,
        "created": applied.created,
        "current_version": pinned.version,
        "sha256": hashlib.sha256(canonical.encode()).hexdigest(),
    }


def cli_actor() -> str:
    """The operating-system account and host a CLI command runs as."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def operator_action(
    *,
    actor: str,
    via: Via,
    action: str,
    target: str,
    reason: str | None = None,
    arguments: Mapping[str, Any] | None = None,
    program: str | None = None,
    year: int | None = None,
    base: str | None = None,
    at: datetime | None = None,
) -> CloudEvent:
    """The audit event. ``program``, ``year`` and ``base`` place it on the event log; an action
    on no program is filed under ``_``, in the calendar year it happened."""
    args = dict(arguments or {})
    secret = sorted(k for k in args if _SECRET_NAME.search(k))
    if secret:
        raise SecretInAudit(f"audit arguments must not carry secrets: {secret}")
    time = at or datetime.now(UTC)
    return new_event(
        # A reason only when one was given: the record has none rather than a null.
        payload=OperatorAction(
            actor=actor,
            via=via,
            action=action,
            target=target,
            arguments=args,
            **({"reason": reason} if reason is not None else {}),
        ),
        program=program or PROGRAM_WIDE,
        year=year if year is not None else time.year,
        base=base,
        time=time,
        # Each action is its own source stream: two identical actions are two events.
        stream_key=f"operator/{uuid.uuid4()}",
        sequence=1,
        source=SOURCE,
    )


async def record(js: JetStreamContext, event: CloudEvent) -> CloudEvent:
    """Publish an audit event built by ``operator_action``; returns it."""
    if event.event_type != EventType.OPERATOR_ACTION:
        raise ValueError(f"not an audit event: {event.type}")
    await EventPublisher(js).publish(event)
    return event
