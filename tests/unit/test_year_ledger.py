"""The year ledger: batches of the cycles' reports applied in order, kept as numbered snapshots."""

from __future__ import annotations

from pathlib import Path

from shared.contracts.cycle import CycleConcluded, CycleGraded
from shared.contracts.year_ledger import LedgerBatch
from shared.domain.grading import Grade
from shared.domain.stages import Stage
from shared.objectstore import LocalObjectStore
from tests.helpers import demo_rules
from workflows.year_ledger import KEPT, Snapshot, apply_batch, keep_batch, ledger_key


def graded(base: str, total: float, grade: Grade, **more: object) -> CycleGraded:
    return CycleGraded(base=base, total=total, grade=grade, secret="s3cret", **more)  # type: ignore[arg-type]


def batch(
    n: int, *reports: CycleGraded, concluded: list[CycleConcluded] | None = None
) -> LedgerBatch:
    return LedgerBatch(
        program="p", year=2027, batch=n, graded=list(reports), concluded=concluded or []
    )


def test_a_base_that_reports_twice_is_counted_once_and_its_change_is_named() -> None:
    first = apply_batch(
        Snapshot(),
        batch(
            1,
            graded("a", 80, Grade.PASS),
            graded("b", 40, Grade.FAIL),
            graded("c", 0, Grade.FAIL, excluded=True, reason="plan_overdue"),
        ),
    )
    assert (first.tally.graded, first.tally.excluded, first.tally.changed) == (3, 1, [])
    assert first.graded["a"].secret == "", "the program year's secret was kept in the ledger"

    second = apply_batch(
        first,
        batch(
            2,
            graded("a", 80, Grade.PASS),  # the same again: no change
            graded("b", 70, Grade.PASS),
            graded("b", 72, Grade.PASS),
        ),
    )
    assert (second.tally.batch, second.tally.graded, second.tally.changed) == (2, 3, ["b"])
    assert second.graded["b"].total == 72
    assert first.graded["b"].total == 40, "the earlier snapshot was changed in place"


def test_outcomes_other_than_none_are_told() -> None:
    quiet = CycleConcluded(base="a", stage=Stage.CLOSED, outcome="none")
    after = apply_batch(Snapshot(), batch(1, concluded=[quiet]))
    assert (after.tally.concluded, after.tally.outcomes_changed) == (1, False)
    delisted = CycleConcluded(base="b", stage=Stage.DELISTED, outcome="delisted")
    after = apply_batch(after, batch(2, concluded=[delisted]))
    assert (after.tally.concluded, after.tally.outcomes_changed) == (2, True)


def test_snapshot_entries_rank_as_the_workflow_did() -> None:
    rules = demo_rules(id="p")
    after = apply_batch(
        Snapshot(), batch(1, graded("a", 90, Grade.EXCELLENT), graded("b", 40, Grade.FAIL))
    )
    assert after.final_grades(rules) == {"a": Grade.EXCELLENT, "b": Grade.FAIL}
    assert Snapshot.load(after.dump()).final_grades(rules) == after.final_grades(rules)


async def test_a_retried_batch_answers_as_before_and_old_snapshots_go(tmp_path: Path) -> None:
    objects = LocalObjectStore(tmp_path)
    first = await keep_batch(objects, batch(1, graded("a", 80, Grade.PASS)))
    second = await keep_batch(objects, batch(2, graded("a", 50, Grade.FAIL)))
    assert (first.graded, second.changed) == (1, ["a"])
    # A retry of batch 2 (its snapshot is kept): the same answer, the change not lost.
    assert await keep_batch(objects, batch(2, graded("a", 50, Grade.FAIL))) == second
    for n in range(3, KEPT + 3):
        await keep_batch(objects, batch(n, graded(f"b{n}", 70, Grade.PASS)))
    last = KEPT + 2
    kept = [n for n in range(1, last + 1) if await objects.stat(ledger_key("p", 2027, n))]
    assert kept == list(range(last - KEPT + 1, last + 1))
    snapshot = Snapshot.load(await objects.get(ledger_key("p", 2027, last)))
    assert snapshot.tally.graded == 1 + KEPT
