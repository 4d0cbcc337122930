"""The base of contracts that refuse unknown fields: a misspelt field is an error, not lost."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
