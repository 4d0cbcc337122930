"""The AsyncAPI document: every request/reply subject with its request and reply schemas (and
the error reply), every event consumer with the CloudEvent it reads, the dashboard included; and
docs/asyncapi.yaml and docs/event.schema.json are what the code generates."""

from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from services.asyncapi_doc import asyncapi_yaml, brokers
from services.docs import event_schema_json, main

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _follow(doc: dict[str, Any], ref: dict[str, str]) -> Any:
    node: Any = doc
    for part in ref["$ref"].removeprefix("#/").split("/"):
        node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
    return node


def _rpc_subjects() -> set[str]:
    return {
        sub.specification.subject.template  # type: ignore[attr-defined]
        for broker in brokers()
        for sub in broker.subscribers
        if sub.specification.subject.template.startswith("navcycle.rpc.")  # type: ignore[attr-defined]
    }


def test_every_rpc_subject_has_its_request_and_reply_schema() -> None:
    doc = yaml.safe_load(asyncapi_yaml())
    subjects = _rpc_subjects()
    assert {"navcycle.rpc.dashboard.counts", "navcycle.rpc.registry.bases.get"} <= subjects
    by_address = {c["address"]: k for k, c in doc["channels"].items() if c.get("address")}
    for subject in subjects:
        key = by_address[subject]
        (message,) = doc["channels"][key]["messages"].values()
        request = _follow(doc, _follow(doc, message)["payload"])
        (operation,) = [o for o in doc["operations"].values() if o["channel"]["$ref"].endswith(key)]
        reply = _follow(doc, operation["reply"]["channel"])["messages"]
        answer = _follow(doc, _follow(doc, reply["Reply"])["payload"])
        failure = _follow(doc, reply["Failure"])
        assert request.get("title") and answer.get("title"), subject
        assert "Navcycle-Error" in failure["headers"]["properties"], subject
    bases_get = doc["channels"][by_address["navcycle.rpc.registry.bases.get"]]
    assert (
        _follow(doc, _follow(doc, next(iter(bases_get["messages"].values())))["payload"])["title"]
        == "GetBase"
    )
    assert "EmptyPayload" not in {
        _follow(doc, m["payload"]).get("title")
        for m in doc["components"]["messages"].values()
        if "Reply" in m["title"]
    }


def test_every_event_consumer_reads_cloud_events_the_dashboard_included() -> None:
    doc = yaml.safe_load(asyncapi_yaml())
    consumers = {k for k, c in doc["channels"].items() if c.get("address") == "navcycle.events.>"}
    assert consumers == {
        "navcycle.events.>:assessment",
        "navcycle.events.>:notifier",
        "navcycle.events.>:dashboard",
    }
    for key in consumers:
        for message in doc["channels"][key]["messages"].values():
            assert _follow(doc, message)["payload"] == {"$ref": "#/components/schemas/CloudEvent"}
    assert "navcycle.projection.updated.{program}.{year}" in {
        c.get("address") for c in doc["channels"].values()
    }


def test_checked_in_documents_are_what_the_code_generates() -> None:
    # On failure: run `make docs` and commit docs/.
    assert (DOCS / "asyncapi.yaml").read_text(encoding="utf-8") == asyncapi_yaml()
    assert (DOCS / "event.schema.json").read_text(encoding="utf-8") == event_schema_json()


def test_make_docs_writes_the_documents(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    spec = yaml.safe_load((tmp_path / "asyncapi.yaml").read_text())
    assert spec["asyncapi"].startswith("3.")
    schema = (tmp_path / "event.schema.json").read_text()
    assert '"specversion"' in schema and '"dataschema"' in schema
