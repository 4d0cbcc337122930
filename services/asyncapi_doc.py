"""The AsyncAPI document of every service's NATS subjects (docs/asyncapi.yaml, written by
``make docs`` and checked for drift by a test).

FastStream describes each typed subscriber's request from its signature. What it cannot see is
added here: the reply of each request/reply subject (the handler's return annotation) and its
error reply (``RpcFailure`` under the ``Navcycle-Error`` header), the CloudEvent the event
consumers read (they take the raw message, to dead-letter what they cannot read), and the
dashboard's batch consumer and projection notes, which are not FastStream subscribers.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.utils import ref
from pydantic import BaseModel

from services.assessment.app import build_broker as assessment
from services.dashboard.app import build_broker as dashboard
from services.filings.app import build_broker as filings
from services.notifier.app import build_broker as notifier
from services.registry.app import build_broker as registry
from shared.consumer import ALL_EVENTS
from shared.contracts.dashboard import ProjectionUpdated, updated_subject
from shared.db import make_engine
from shared.events.envelope import CloudEvent
from shared.rpc import ERROR_HEADER, RpcFailure

URL = "nats://localhost:4222"
RPC_PREFIX = "navcycle.rpc."
SCHEMAS = "#/components/schemas/{model}"
DESCRIPTION = (
    "Request/reply subjects navcycle.rpc.<service>.<action>: the request and the reply are the "
    "JSON of the models in shared/contracts; a refusal or a failure is an RpcFailure "
    f"{{code, message, status}} with the header {ERROR_HEADER} naming its code. The durable "
    "consumers of the event stream NAVCYCLE_EVENTS (navcycle.events.<program>.<year>.<base>."
    "<type>) read CloudEvents 1.0 (each type's data: docs/schemas/events/)."
)


def brokers() -> list[NatsBroker]:
    """Every service's broker, built as its process builds it but never connected."""
    from shared.objectstore import LocalObjectStore

    engine = make_engine("sqlite://")  # never opened: the brokers are only described
    return [
        registry(URL, engine),
        filings(URL, engine, LocalObjectStore(Path("/nonexistent"))),
        assessment(URL, engine),
        notifier(URL, engine),
        dashboard(URL, engine),
    ]


def replies(broker: NatsBroker) -> dict[str, type[BaseModel]]:
    """Each request/reply subject's reply model: its handler's return annotation."""
    found: dict[str, type[BaseModel]] = {}
    for sub in broker.subscribers:
        subject = sub.specification.subject.template  # type: ignore[attr-defined]
        if not subject.startswith(RPC_PREFIX):
            continue
        for item in sub.calls:
            reply = typing.get_type_hints(item.handler._declared_call).get("return")
            if isinstance(reply, type) and issubclass(reply, BaseModel):
                found[subject] = reply
    return found


def document() -> dict[str, Any]:
    built = brokers()
    spec = AsyncAPI(*built, title="navcycle services", version="0.1.0", description=DESCRIPTION)
    doc: dict[str, Any] = spec.to_specification().to_jsonable()
    reply_models = {s: m for b in built for s, m in replies(b).items()}
    _add_replies(doc, reply_models)
    _type_event_channels(doc)
    _add_dashboard(doc)
    return doc


def asyncapi_yaml() -> str:
    return yaml.safe_dump(document(), sort_keys=True, allow_unicode=True, width=100)


def _schema(doc: dict[str, Any], model: type[BaseModel]) -> dict[str, str]:
    """Put ``model`` (and the models it uses) in the components; a reference to it."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    body = model.model_json_schema(ref_template=SCHEMAS)
    for name, nested in body.pop("$defs", {}).items():
        schemas.setdefault(name, nested)
    schemas.setdefault(model.__name__, body)
    return ref("components", "schemas", model.__name__)


def _message(doc: dict[str, Any], name: str, body: dict[str, Any]) -> dict[str, str]:
    doc["components"].setdefault("messages", {})[name] = body
    return ref("components", "messages", name)


def _add_replies(doc: dict[str, Any], reply_models: dict[str, type[BaseModel]]) -> None:
    failure = _message(
        doc,
        "RpcFailure",
        {
            "title": "RpcFailure",
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {ERROR_HEADER: {"type": "string", "description": "the code"}},
                "required": [ERROR_HEADER],
            },
            "payload": _schema(doc, RpcFailure),
        },
    )
    for key, channel in list(doc["channels"].items()):
        model = reply_models.get(channel.get("address") or "")
        if model is None:
            continue
        reply_key = f"{key}:Reply"
        doc["channels"][reply_key] = {
            "address": None,  # the requester's inbox
            "description": f"The answer to {channel['address']}: {model.__name__}, or a failure.",
            "messages": {
                "Reply": _message(
                    doc,
                    f"{reply_key}:Message",
                    {
                        "title": f"{reply_key}:Message",
                        "contentType": "application/json",
                        "payload": _schema(doc, model),
                    },
                ),
                "Failure": failure,
            },
        }
        for operation in doc["operations"].values():
            if operation["channel"] == ref("channels", key):
                operation["reply"] = {"channel": ref("channels", reply_key)}


def _type_event_channels(doc: dict[str, Any]) -> None:
    event = _schema(doc, CloudEvent)
    for channel in doc["channels"].values():
        if (channel.get("address") or "").startswith("navcycle.events."):
            for message in channel["messages"].values():
                name = unquote(message["$ref"].rsplit("/", 1)[-1])
                doc["components"]["messages"][name]["payload"] = event
    if ref("components", "schemas", "EmptyPayload") not in _payloads(doc):
        doc["components"]["schemas"].pop("EmptyPayload", None)


def _payloads(doc: dict[str, Any]) -> list[Any]:
    return [m.get("payload") for m in doc["components"].get("messages", {}).values()]


def _add_dashboard(doc: dict[str, Any]) -> None:
    """The dashboard's batch consumer and its notes after each commit (core NATS)."""
    consumer, notes = f"{ALL_EVENTS}:dashboard", "ProjectionUpdated"
    doc["channels"][consumer] = {
        "address": ALL_EVENTS,
        "description": "The dashboard's durable batch consumer: every event, in stream order.",
        "messages": {
            "Event": _message(
                doc,
                f"{consumer}:Message",
                {"title": f"{consumer}:Message", "payload": _schema(doc, CloudEvent)},
            )
        },
    }
    doc["operations"][consumer] = {
        "action": "receive",
        "channel": ref("channels", consumer),
        "messages": [ref("channels", consumer, "messages", "Event")],
    }
    doc["channels"][notes] = {
        "address": updated_subject("{program}", "{year}"),  # type: ignore[arg-type]
        "description": ProjectionUpdated.__doc__,
        "parameters": {"program": {}, "year": {}},
        "messages": {
            "Note": _message(
                doc,
                f"{notes}:Message",
                {"title": f"{notes}:Message", "payload": _schema(doc, ProjectionUpdated)},
            )
        },
    }
    doc["operations"][f"{notes}Publish"] = {
        "action": "send",
        "channel": ref("channels", notes),
        "messages": [ref("channels", notes, "messages", "Note")],
    }
