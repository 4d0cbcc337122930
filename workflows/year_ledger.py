"""The year ledger in the object store: one JSON snapshot per batch of the cycles' reports.

Snapshot ``n`` is snapshot ``n - 1`` with batch ``n`` applied (:func:`apply_batch`, pure), stored
under ``ledger/{program}/{year}/{n:07d}.json``. Objects are never overwritten, and a retried batch
finds its own snapshot and answers what it answered before, so keeping a batch is idempotent.
Readers name the snapshot they read (the workflow's last batch), so a notice, the final grades
and the outcome decisions all read the same reports. The two snapshots before the newest are kept
for readers that started on them; older ones are removed; the year's last snapshot stays with its
results, the record of what every cycle reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from shared.contracts.cycle import CycleConcluded, CycleGraded
from shared.contracts.results import ObjectionSummary, ResultEntry
from shared.contracts.year_ledger import LedgerBatch, LedgerTally
from shared.domain.grading import Grade
from shared.domain.rules import ProgramRules
from shared.objectstore import ObjectStore
from workflows.results import build_entries, final_grades

KEPT = 3  # the newest snapshot and the two before it


def ledger_key(program: str, year: int, batch: int) -> str:
    return f"ledger/{program}/{year}/{batch:07d}.json"


@dataclass
class Snapshot:
    batch: int = 0
    graded: dict[str, CycleGraded] = field(default_factory=dict)
    concluded: dict[str, CycleConcluded] = field(default_factory=dict)
    tally: LedgerTally = field(default_factory=LedgerTally)

    def dump(self) -> bytes:
        doc = {
            "batch": self.batch,
            "graded": {b: g.model_dump(mode="json") for b, g in sorted(self.graded.items())},
            "concluded": {b: c.model_dump(mode="json") for b, c in sorted(self.concluded.items())},
            "tally": self.tally.model_dump(mode="json"),
        }
        return json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()

    @classmethod
    def load(cls, raw: bytes) -> Snapshot:
        doc = json.loads(raw)
        return cls(
            batch=doc["batch"],
            graded={b: CycleGraded.model_validate(g) for b, g in doc["graded"].items()},
            concluded={b: CycleConcluded.model_validate(c) for b, c in doc["concluded"].items()},
            tally=LedgerTally.model_validate(doc["tally"]),
        )

    def entries(
        self,
        rules: ProgramRules,
        objections: dict[str, list[ObjectionSummary]] | None = None,
        corrected: list[str] | None = None,
    ) -> dict[str, ResultEntry]:
        return build_entries(
            rules,
            self.graded,
            self.concluded,
            objections=objections or {},
            corrected=set(corrected or []),
        )

    def final_grades(self, rules: ProgramRules) -> dict[str, Grade]:
        return final_grades(self.entries(rules))


def apply_batch(before: Snapshot, batch: LedgerBatch) -> Snapshot:
    """The reports applied in order, last one standing per base (a cycle that reports twice is
    counted once), without the program year's secret; ``changed`` names the bases whose total or
    grade differs from their earlier report."""
    graded = dict(before.graded)
    concluded = dict(before.concluded)
    changed: list[str] = []
    for g in batch.graded:
        earlier = graded.get(g.base)
        if earlier is not None and (earlier.total, earlier.grade) != (g.total, g.grade):
            if g.base not in changed:
                changed.append(g.base)
        graded[g.base] = g.model_copy(update={"secret": ""})
    for c in batch.concluded:
        concluded[c.base] = c.model_copy(update={"secret": ""})
    tally = LedgerTally(
        batch=batch.batch,
        graded=len(graded),
        excluded=sum(1 for g in graded.values() if g.excluded),
        concluded=len(concluded),
        outcomes_changed=any(c.outcome != "none" for c in concluded.values()),
        changed=changed,
    )
    return Snapshot(batch=batch.batch, graded=graded, concluded=concluded, tally=tally)


async def read_snapshot(objects: ObjectStore, program: str, year: int, batch: int) -> Snapshot:
    if batch == 0:
        return Snapshot()
    return Snapshot.load(await objects.get(ledger_key(program, year, batch)))


async def keep_batch(objects: ObjectStore, batch: LedgerBatch) -> LedgerTally:
    key = ledger_key(batch.program, batch.year, batch.batch)
    if await objects.stat(key) is not None:  # a retry: this batch is kept already
        return Snapshot.load(await objects.get(key)).tally
    before = await read_snapshot(objects, batch.program, batch.year, batch.batch - 1)
    after = apply_batch(before, batch)
    await objects.put(key, after.dump(), "application/json")
    if batch.batch > KEPT:
        await objects.delete(ledger_key(batch.program, batch.year, batch.batch - KEPT))
    return after.tally
