"""The JSON Schema of every payload model and version, as ``make docs`` writes it to
docs/schemas/events/<type>.v<N>.json; each schema's ``$id`` is the ``dataschema`` its events
carry."""

from __future__ import annotations

import json

from shared.events.payloads.base import payload_models


def schema_documents() -> dict[str, str]:
    """File name → the schema's JSON text (stable: sorted keys, a trailing newline)."""
    documents: dict[str, str] = {}
    for model in payload_models():
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": model.dataschema(),
            "x-navcycle-event-type": f"navcycle.{model.event_type.value}",
            "x-navcycle-version": model.payload_version,
            **model.model_json_schema(by_alias=True),
        }
        documents[model.schema_file()] = (
            json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
    return documents
