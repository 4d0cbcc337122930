"""Documents a bureau writes (program rules, holiday tables): read from YAML or JSON, and every
bad field named by its path when one does not validate."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError


class InvalidDocument(ValueError):
    """A document that does not validate; ``errors`` names each bad field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))

    @classmethod
    def of(cls, exc: ValidationError) -> InvalidDocument:
        return cls(
            [
                {
                    "field": ".".join(str(p) for p in err["loc"]) or "(document)",
                    "message": err["msg"],
                }
                for err in exc.errors()
            ]
        )

    @classmethod
    def whole(cls, message: str) -> InvalidDocument:
        return cls([{"field": "(document)", "message": message}])


def load_mapping(text: str, error: type[InvalidDocument]) -> dict[str, Any]:
    """The mapping a YAML or JSON text holds (YAML is a superset of JSON), or ``error``."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error.whole(f"not YAML or JSON: {exc}") from None
    if not isinstance(document, dict):
        raise error.whole("must be a mapping")
    return document
