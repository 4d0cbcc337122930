"""NATS users, one per process kind, each allowed exactly the subjects its work needs.

The table of permissions is data (``PERMISSIONS``); from it come the nats-server ``authorization``
block that ``navcycle up`` writes with random passwords under its state directory, and the one
docker compose mounts, which reads each password from the environment (``.env``). Nobody may
delete or purge the event stream, or delete one of its messages: it is the audit log (the stream
itself denies purge and message deletion as well, see ``shared.stream``).

Replies: a service answers a request on the requester's reply subject (``allow_responses``), so
it needs no publish right on anyone's inbox. Every user takes its answers (requests, JetStream
API replies, the messages of its consumers) on an inbox of its own, ``_INBOX_<user>.>``, and may
read no other: nobody may subscribe to the shared ``_INBOX.>``, so no process reads another's
answers. Every connection sets nats-py's ``inbox_prefix`` to :func:`inbox_prefix`.

Consumers: each reader of the event log may touch only the durable consumers it owns (create,
information, next messages, acknowledgements); nobody but the operator deletes a consumer, except
the dashboard its own (it replaces one made by an older version). Nobody but the operator makes
ephemeral consumers (the replays of ``shared.eventlog``, ``navcycle events`` and ``navcycle
dashboard rebuild``): nats-server takes a consumer's name from the request's body on that subject,
so whoever may make one may reconfigure any consumer (redirect the dashboard's deliveries, say).
The gateway reads the few events it needs one stored message at a time
(``shared.eventlog.fetch_events``).
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
# nats-py's (and the ``nats`` tool's) default: no process of ours takes answers there, and only
# the operator may read it, for tools that keep the default.
SHARED_INBOX = "_INBOX"
PROJECTION_UPDATED = "navcycle.projection.updated.>"
CREDENTIALS_FILE = "nats-users.json"
CONFIG_FILE = "nats-auth.conf"
MONITOR_HOST = "127.0.0.1"
COMPOSE_MONITOR_PORT = 8222

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
# Information about the streams, and single messages; no consumer.
JS_READ = (
    "$JS.API.INFO",
    "$JS.API.STREAM.INFO.*",
    "$JS.API.STREAM.NAMES",
    "$JS.API.STREAM.LIST",
    "$JS.API.STREAM.MSG.GET.*",
    "$JS.API.DIRECT.GET.>",
)
# Creating the streams, or bringing them to our definition (``ensure_events_stream``).
JS_SETUP = tuple(
    f"$JS.API.STREAM.{verb}.{stream}"
    for verb in ("CREATE", "UPDATE")
    for stream in (EVENTS_STREAM, DLQ_STREAM)
)


def _rpc(service: str) -> str:
    return f"navcycle.rpc.{service}.>"


def durable(name: str, *, replaces: bool = False) -> tuple[str, ...]:
    """The JetStream API of the event stream's durable consumer ``name``, for its owner only:
    made (old and new subject), asked about, pulled from, acknowledged; deleted if it
    ``replaces`` one (``shared.consumer.BatchConsumer``)."""
    at = f"{EVENTS_STREAM}.{name}"
    rights = (
        f"$JS.API.CONSUMER.DURABLE.CREATE.{at}",
        f"$JS.API.CONSUMER.CREATE.{at}",
        f"$JS.API.CONSUMER.CREATE.{at}.>",
        f"$JS.API.CONSUMER.INFO.{at}",
        f"$JS.API.CONSUMER.MSG.NEXT.{at}",
        f"$JS.ACK.{at}.>",
        f"$JS.FC.{at}.>",
    )
    return (*rights, f"$JS.API.CONSUMER.DELETE.{at}") if replaces else rights


def inbox_prefix(user: str | None) -> str:
    """Where a process of ``user`` takes its answers: ``_INBOX_<user>`` for our users, the
    shared ``_INBOX`` without authentication (or for a user not ours)."""
    return f"{SHARED_INBOX}_{user}" if user in USERS else SHARED_INBOX


def _inbox(user: str) -> str:
    return f"{inbox_prefix(user)}.>"


def _events(*types: str) -> tuple[str, ...]:
    """Event subjects of the given types, any program, year and base."""
    return tuple(f"{EVENTS_PREFIX}.*.*.*.{t}" for t in types)


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    publish_deny: tuple[str, ...] = STREAM_ADMIN
    allow_responses: bool = False
    subscribe_deny: tuple[str, ...] = ()

    def as_config(self) -> dict[str, object]:
        subscribe: dict[str, list[str]] = {"allow": list(self.subscribe)}
        if self.subscribe_deny:
            subscribe["deny"] = list(self.subscribe_deny)
        out: dict[str, object] = {
            "publish": {"allow": list(self.publish), "deny": list(self.publish_deny)},
            "subscribe": subscribe,
        }
        if self.allow_responses:
            out["allow_responses"] = True
        return out


def _service(name: str, *publish: str, consumer: tuple[str, ...] = ()) -> Permissions:
    """A FastStream service: answers its own requests (the health check in its container asks
    its own ``health``), reads the event log through its ``consumer`` if it has one, and writes
    its dead letters."""
    own = (f"navcycle.rpc.{name}.health",)
    js = (*JS_READ, *JS_SETUP, f"navcycle.dlq.{name}", *consumer) if consumer else ()
    return Permissions(
        publish=(*own, *js, *publish),
        subscribe=(_rpc(name), _inbox(name)),
        allow_responses=True,
    )


PERMISSIONS: Mapping[str, Permissions] = {
    # The registry reads the outcome decisions (exits, re-application bans) through its own.
    "registry": _service("registry", consumer=durable("registry")),
    "filings": _service("filings"),
    "assessment": _service(
        "assessment",
        *_events("expert.assigned", "expert.reassigned"),
        consumer=durable("assessment"),
    ),
    "notifier": _service("notifier", consumer=durable("notifier")),
    "dashboard": _service(
        "dashboard", PROJECTION_UPDATED, consumer=durable("dashboard", replaces=True)
    ),
    # The workflows' activities: every cycle and program event, requests to every service.
    "worker": Permissions(
        publish=(f"{EVENTS_PREFIX}.>", "navcycle.rpc.>", *JS_READ, *JS_SETUP),
        subscribe=(_inbox("worker"),),
    ),
    # The HTTP API: requests to every service, the audit records of what it changes, reading
    # the log for SSE and the year view, and the projections' change notes. No stream admin.
    "gateway": Permissions(
        publish=(
            "navcycle.rpc.>",
            *_events("operator.action", "calendar.applied", "base.reinstated"),
            *JS_READ,
        ),
        subscribe=(_inbox("gateway"), PROJECTION_UPDATED),
    ),
    # The command line (and an operator's own tools, on the default inbox): anything but
    # shortening the audit log, or reading another user's answers.
    OPERATOR: Permissions(
        publish=(">",),
        subscribe=(">",),
        publish_deny=NEVER,
        subscribe_deny=tuple(_inbox(u) for u in USERS if u != OPERATOR),
    ),
}


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


def monitor_line(port: int) -> str:
    """nats-server's monitoring endpoint, which asks for no password: on the loopback only."""
    return f"http: {json.dumps(f'{MONITOR_HOST}:{port}')}\n"


def write_embedded_auth(directory: Path, *, monitor_port: int | None = None) -> dict[str, str]:
    """New random passwords for every user, written (owner-only) beside the nats-server config
    that uses them, with the monitoring port (bound to the loopback) if given; returns the
    passwords."""
    directory.mkdir(parents=True, exist_ok=True)
    passwords = generate_passwords()
    _write_private(directory / CREDENTIALS_FILE, json.dumps(passwords, indent=2))
    header = "# Written by `navcycle up`; new passwords on every start. Do not edit.\n"
    monitor = monitor_line(monitor_port) if monitor_port else ""
    _write_private(directory / CONFIG_FILE, header + monitor + authorization_block(passwords))
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
        "# Monitoring (the containers' health check) listens inside each container only.\n"
        + monitor_line(COMPOSE_MONITOR_PORT)
        + authorization_block()
    )
