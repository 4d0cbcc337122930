"""Custom search attributes, so operators can list and filter cycles."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

PROGRAM = SearchAttributeKey.for_keyword("NavProgram")
YEAR = SearchAttributeKey.for_int("NavYear")
BASE = SearchAttributeKey.for_keyword("NavBase")
REGION = SearchAttributeKey.for_keyword("NavRegion")
STAGE = SearchAttributeKey.for_keyword("NavStage")
GRADE = SearchAttributeKey.for_keyword("NavGrade")

ALL: list[SearchAttributeKey[Any]] = [PROGRAM, YEAR, BASE, REGION, STAGE, GRADE]
