"""Generate the AsyncAPI document of every service's NATS subjects, the event schema, the
schema of every event payload (docs/schemas/events/<type>.v<N>.json), and the gateway's OpenAPI
document (docs/openapi.json).

python -m services.docs docs/
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from faststream.specification import AsyncAPI

from services.assessment.app import build_broker as assessment
from services.filings.app import build_broker as filings
from services.gateway.openapi_doc import openapi_json
from services.notifier.app import build_broker as notifier
from services.registry.app import build_broker as registry
from shared.db import make_engine
from shared.events.envelope import CloudEvent
from shared.events.payloads.schemas import schema_documents
from shared.objectstore import LocalObjectStore


def specification() -> AsyncAPI:
    engine = make_engine("sqlite://")  # never opened: the brokers are only described
    brokers = [
        registry("nats://localhost:4222", engine),
        filings("nats://localhost:4222", engine, LocalObjectStore(Path("/nonexistent"))),
        assessment("nats://localhost:4222", engine),
        notifier("nats://localhost:4222", engine),
    ]
    return AsyncAPI(
        *brokers,
        title="navcycle services",
        version="0.1.0",
        description=(
            "Request/reply subjects navcycle.rpc.<service>.<action> (JSON bodies from "
            "shared/contracts; replies {ok, data} or {ok: false, error: {code, message, status}}) "
            "and the durable consumers of the event stream NAVCYCLE_EVENTS "
            "(navcycle.events.<program>.<year>.<base>.<type>)."
        ),
    )


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs")
    out.mkdir(parents=True, exist_ok=True)
    (out / "asyncapi.yaml").write_text(specification().to_specification().to_yaml())
    (out / "event.schema.json").write_text(json.dumps(CloudEvent.model_json_schema(), indent=2))
    print(f"wrote {out / 'asyncapi.yaml'} and {out / 'event.schema.json'}")
    # One schema per payload type and version, where the events' dataschema points.
    schemas = out / "schemas" / "events"
    schemas.mkdir(parents=True, exist_ok=True)
    for name, text in schema_documents().items():
        (schemas / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(schema_documents())} payload schemas to {schemas}")
    (out / "openapi.json").write_text(openapi_json(), encoding="utf-8")  # the gateway's HTTP API
    print(f"wrote {out / 'openapi.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
