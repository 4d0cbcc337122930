from pathlib import Path

import yaml

from services.docs import main


def test_asyncapi_names_every_rpc_subject_and_consumer(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    spec = yaml.safe_load((tmp_path / "asyncapi.yaml").read_text())
    addresses = {c.get("address") for c in spec["channels"].values()}
    for subject in (
        "navcycle.rpc.registry.rules.apply",
        "navcycle.rpc.filings.documents.register",
        "navcycle.rpc.assessment.assignments.current",
        "navcycle.rpc.notifier.inbox.list",
        "navcycle.events.>",
    ):
        assert subject in addresses, subject
    schema = (tmp_path / "event.schema.json").read_text()
    assert '"specversion"' in schema and '"dataschema"' in schema
