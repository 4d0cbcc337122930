"""Generate the AsyncAPI document of every service's NATS subjects, the event schema, the
schema of every event payload (docs/schemas/events/<type>.v<N>.json), and the gateway's OpenAPI
document (docs/openapi.json).

python -m services.docs docs/
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from services.asyncapi_doc import asyncapi_yaml
from services.gateway.openapi_doc import openapi_json
from shared.events.envelope import CloudEvent
from shared.events.payloads.schemas import schema_documents


def event_schema_json() -> str:
    return json.dumps(CloudEvent.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs")
    out.mkdir(parents=True, exist_ok=True)
    (out / "asyncapi.yaml").write_text(asyncapi_yaml(), encoding="utf-8")
    (out / "event.schema.json").write_text(event_schema_json(), encoding="utf-8")
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
