"""NATS users, one per process kind, each allowed exactly the subjects its work needs.

The table of permissions is data (``PERMISSIONS``); from it come the nats-server ``authorization``
block that ``navcycle up`` writes with random passwords under its state directory, and the one
docker compose mounts, which reads each password from the environment (``.env``). Nobody may
delete or purge the event stream, or delete one of its messages: it is the audit log (the stream
itself denies purge and message deletion as well, see ``shared.stream``).

Replies: a service answers a request on the requester's reply subject (``allow_responses``), so
it needs no publish right on ``_INBOX.>``; whoever sends requests or talks to JetStream
subscribes to ``_INBOX.>`` for the answers.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.events.subjects import EVENTS_PREFIX
from shared.stream import DLQ_STREAM, EVENTS_STREAM

SERVICES = ("registry", "filings", "assessment", "notifier", "dashboard")
USERS = (*SERVICES, "worker", "gateway", "operator")
OPERATOR = "operator"
INBOX = "_INBOX.>"
# The gateway and the worker take their answers on inboxes of their own, so no service, which
# must read ``_INBOX.>`` for its JetStream answers, can read what is sent to them.
OWN_INBOX = {"gateway": "_INBOX_gateway", "worker": "_INBOX_worker"}
PROJECTION_UPDATED = "navcycle.projection.updated.>"
CREDENTIALS_FILE = "nats-users.json"
CONFIG_FILE = "nats-auth.conf"

# The audit log is never shortened through the API, by anyone.
NEVER = (
    f"$JS.API.STREAM.DELETE.{EVENTS_STREAM}",
    f"$JS.API.STREAM.PURGE.{EVENTS_STREAM}",
    f"$JS.API.STREAM.MSG.DELETE.{EVENTS_STREAM}",
)
# Stream administration beyond creating and updating our two streams.
STREAM_ADMIN = (
    "$JS.API.STREAM.DELETE.>",
    "$JS.API.STREAM.PURGE.>",
    "$JS.API.STREAM.MSG.DELETE.>",
    "$JS.API.STREAM.SNAPSHOT.>",
    "$JS.API.STREAM.RESTORE.>",
    "$JS.API.STREAM.PEER.>",
    "$JS.API.STREAM.LEADER.>",
    "$JS.API.META.>",
    "$JS.API.ACCOUNT.>",
)
# Reading the streams: information, consumers (durable, ephemeral, ordered), acknowledgements,
# flow control, single messages.
JS_READ = (
    "$JS.API.INFO",
    "$JS.API.STREAM.INFO.*",
    "$JS.API.STREAM.NAMES",
    "$JS.API.STREAM.LIST",
    "$JS.API.STREAM.MSG.GET.*",
    "$JS.API.DIRECT.GET.>",
    "$JS.API.CONSUMER.>",
    "$JS.ACK.>",
    "$JS.FC.>",
)
# Creating the streams, or bringing them to our definition (``ensure_events_stream``).
JS_SETUP = tuple(
    f"$JS.API.STREAM.{verb}.{stream}"
    for verb in ("CREATE", "UPDATE")
    for stream in (EVENTS_STREAM, DLQ_STREAM)
)


def _rpc(service: str) -> str:
    return f"navcycle.rpc.{service}.>"


def _events(*types: str) -> tuple[str, ...]:
    """Event subjects of the given types, any program, year and base."""
    return tuple(f"{EVENTS_PREFIX}.*.*.*.{t}" for t in types)


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    publish_deny: tuple[str, ...] = STREAM_ADMIN
    allow_responses: bool = False

    def as_config(self) -> dict[str, object]:
        out: dict[str, object] = {
            "publish": {"allow": list(self.publish), "deny": list(self.publish_deny)},
            "subscribe": {"allow": list(self.subscribe)},
        }
        if self.allow_responses:
            out["allow_responses"] = True
        return out


def _service(name: str, *publish: str, consumes: bool = True) -> Permissions:
    """A FastStream service: answers its own requests (the health check in its container asks
    its own ``health``), reads the event log if it ``consumes``, and writes its dead letters."""
    own = (f"navcycle.rpc.{name}.health",)
    js = (*JS_READ, *JS_SETUP, f"navcycle.dlq.{name}") if consumes else ()
    return Permissions(
        publish=(*own, *js, *publish),
        subscribe=(_rpc(name), INBOX),
        allow_responses=True,
    )


PERMISSIONS: Mapping[str, Permissions] = {
    "registry": _service("registry", consumes=False),
    "filings": _service("filings", consumes=False),
    "assessment": _service("assessment", *_events("expert.assigned", "expert.reassigned")),
    "notifier": _service("notifier"),
    "dashboard": _service("dashboard", PROJECTION_UPDATED),
    # The workflows' activities: every cycle and program event, requests to every service.
    "worker": Permissions(
        publish=(f"{EVENTS_PREFIX}.>", "navcycle.rpc.>", *JS_READ, *JS_SETUP),
        subscribe=(f"{OWN_INBOX['worker']}.>",),
    ),
    # The HTTP API: requests to every service, the audit records of what it changes, reading
    # the log for SSE and the year view, and the projections' change notes. No stream admin.
    "gateway": Permissions(
        publish=(
            "navcycle.rpc.>",
            *_events("operator.action", "calendar.applied", "base.reinstated"),
            *JS_READ,
        ),
        subscribe=(f"{OWN_INBOX['gateway']}.>", PROJECTION_UPDATED),
    ),
    # The command line: anything but shortening the audit log.
    OPERATOR: Permissions(publish=(">",), subscribe=(">",), publish_deny=NEVER),
}


def inbox_prefix(user: str | None) -> str:
    """Where a process of ``user`` takes its answers."""
    return OWN_INBOX.get(user or "", "_INBOX")


def generate_passwords(users: Iterable[str] = USERS) -> dict[str, str]:
    return {user: secrets.token_urlsafe(24) for user in users}


def env_name(user: str) -> str:
    """The environment variable compose reads a user's password from."""
    return f"NATS_{user.upper()}_PASSWORD"


def authorization_block(passwords: Mapping[str, str] | None = None) -> str:
    """nats-server's ``authorization`` block for every user. Without ``passwords`` each password
    is the environment variable ``env_name(user)``, resolved by nats-server when it starts."""
    lines = ["authorization {", "  users = ["]
    for user in USERS:
        secret = json.dumps(passwords[user]) if passwords else f"${env_name(user)}"
        perms = json.dumps(PERMISSIONS[user].as_config())
        lines.append(f"    {{user: {json.dumps(user)}, password: {secret}, permissions: {perms}}}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def write_embedded_auth(directory: Path) -> dict[str, str]:
    """New random passwords for every user, written (owner-only) beside the nats-server config
    that uses them; returns the passwords."""
    directory.mkdir(parents=True, exist_ok=True)
    passwords = generate_passwords()
    _write_private(directory / CREDENTIALS_FILE, json.dumps(passwords, indent=2))
    header = "# Written by `navcycle up`; new passwords on every start. Do not edit.\n"
    _write_private(directory / CONFIG_FILE, header + authorization_block(passwords))
    return passwords


def read_embedded_passwords(directory: Path) -> dict[str, str]:
    """The passwords ``navcycle up`` wrote, or none when it has not started a nats-server."""
    try:
        data = json.loads((directory / CREDENTIALS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def compose_config() -> str:
    """``deploy/nats/auth.conf``: the users of docker compose, passwords from the environment."""
    return (
        "# The NATS users of docker compose, generated from shared/nats_auth.py: regenerate with\n"
        "#   python -c 'from shared.nats_auth import compose_config as c; print(c(), end=\"\")'"
        " > deploy/nats/auth.conf\n"
        "# Each password comes from the environment (.env): NATS_<USER>_PASSWORD.\n"
        + authorization_block()
    )
