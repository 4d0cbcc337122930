"""Multi-year programs: a span's checkpoints, its mid-term and final years, the years a checkpoint
reads, the refusals of a span that does not hold together, and the Xing'an preset's span."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.domain.program_span import ProgramSpan
from shared.domain.rules import load_rules_file, rules_digest
from shared.settings import DEPLOY_DIR


def test_every_year_is_a_checkpoint_by_default_and_the_final_is_the_last() -> None:
    span = ProgramSpan(start_year=2022, end_year=2025, mid_term=2023)
    assert span.checkpoint_years() == [2022, 2023, 2024, 2025]
    assert [span.evaluation(y) for y in (2021, 2022, 2023, 2024, 2025, 2026)] == [
        None,
        None,
        "mid_term",
        None,
        "final",
        None,
    ]
    assert span.years_read(2024) == [2022, 2023, 2024]
    assert span.years_read(2030) == [2022, 2023, 2024, 2025]
    assert span.is_checkpoint(2026) is False


def test_listed_checkpoints_take_in_the_evaluation_years() -> None:
    span = ProgramSpan(
        start_year=2021, end_year=2025, checkpoints=[2022], mid_term=2023, final=2024
    )
    assert span.checkpoint_years() == [2022, 2023, 2024]
    assert (span.evaluation(2024), span.evaluation(2025)) == ("final", None)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"start_year": 2026, "end_year": 2025}, "起始年份不得晚于终止年份"),
        ({"checkpoints": [2021]}, "检查年份须在实施期内且不重复"),
        ({"checkpoints": [2023, 2023]}, "检查年份须在实施期内且不重复"),
        ({"mid_term": 2025}, "中期评估年份须在实施期内且早于终期评估"),
        ({"mid_term": 2024, "final": 2023}, "中期评估年份须在实施期内且早于终期评估"),
        ({"final": 2026}, "终期评估年份须在实施期内"),
    ],
)
def test_a_span_that_does_not_hold_together_is_refused(
    fields: dict[str, object], words: str
) -> None:
    with pytest.raises(ValidationError) as info:
        ProgramSpan.model_validate({"start_year": 2022, "end_year": 2025, **fields})
    assert words in str(info.value)


def test_the_xingan_preset_runs_2022_to_2025_with_its_evaluations() -> None:
    rules = load_rules_file(DEPLOY_DIR / "programs" / "xingan-high-value-patents.yaml")
    assert rules.span == ProgramSpan(start_year=2022, end_year=2025, mid_term=2023, final=2025)
    document = rules.model_dump(mode="json")
    document["span"] = None
    without = type(rules).model_validate(document)
    assert rules_digest(without) != rules_digest(rules)
