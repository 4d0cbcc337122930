"""Synthetic event logs with the shape of a real year: each base's cycle walks through the event
types in order, with the data a real workflow would attach (documents, scores, decision records),
so projections do their normal work and messages have their normal size."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from services.sim.play import CITIES
from shared.domain.grading import DecisionRecord, ScoreSheet, grade_sheets
from shared.domain.rules import load_rules_file
from shared.events.envelope import CloudEvent, new_event
from shared.events.types import EventType as T
from shared.settings import DEPLOY_DIR

LIFECYCLE = [
    T.CYCLE_OPENED,
    T.REMINDER_SENT,
    T.PLAN_FILED,
    T.PLAN_VERIFIED,
    T.PLAN_VERIFIED,
    T.PLAN_ACCEPTED,
    T.SELFEVAL_FILED,
    T.REVIEW_OPENED,
    T.REVIEW_SCORED,
    T.REVIEW_GRADED,
    T.CYCLE_CLOSED,
]
_START = datetime(2026, 3, 1, tzinfo=UTC)
_RUBRIC = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml").rubric


def _document(base: str, kind: str, at: datetime) -> dict[str, Any]:
    digest = hashlib.sha256(f"{base}/{kind}".encode()).hexdigest()
    return {
        "document_id": hashlib.md5(digest.encode(), usedforsecurity=False).hexdigest(),
        "kind": kind,
        "version": 1,
        "key": f"documents/bench/2026/{base}/{kind}/{digest}.pdf",
        "sha256": digest,
        "size": 1_048_576,
        "content_type": "application/pdf",
        "filename": f"{kind}.pdf",
        "filed_by": f"{base}-staff",
        "filed_at": at.isoformat(),
    }


def _decision(program: str, year: int, base: str, score: float) -> dict[str, Any]:
    sheets = [ScoreSheet(expert="expert-1", scores=dict.fromkeys(_RUBRIC.keys, score))]
    averaged, total, vetoes, grade = grade_sheets(_RUBRIC, sheets)
    record = DecisionRecord(
        program=program,
        year=year,
        base=base,
        rubric=_RUBRIC,
        sheets=sheets,
        vetoes=vetoes,
        evidence_sha256=[_document(base, k, _START)["sha256"] for k in ("plan", "selfeval")],
        completion={"patents": round(score / 80, 4)},
        averaged=averaged,
        total=total,
        grade=grade,
        workflow_run_id="00000000-0000-0000-0000-000000000000",
    )
    return record.model_dump(mode="json")


def _data(program: str, year: int, base: str, kind: T, step: int, at: datetime) -> dict[str, Any]:
    due = (at + timedelta(days=30)).isoformat()
    score = 60 + (int(hashlib.md5(base.encode(), usedforsecurity=False).hexdigest(), 16) % 40)
    match kind:
        case T.CYCLE_OPENED:
            return {"deadlines": {"plan": due}, "stage": "plan_filing"}
        case T.REMINDER_SENT:
            return {"deadline": "plan", "due": due, "stage": "plan_filing"}
        case T.PLAN_FILED:
            targets = [{"key": "patents", "name": "新增发明专利", "target": 30, "unit": "件"}]
            return {"document": _document(base, "plan", at), "targets": targets}
        case T.PLAN_VERIFIED:
            step_name = "city" if step % len(LIFECYCLE) == 3 else "province"
            return {"step": step_name, "comment": "", "reviewer": f"{step_name}-officer"}
        case T.SELFEVAL_FILED:
            return {"document": _document(base, "selfeval", at), "actuals": {"patents": 28.5}}
        case T.REVIEW_OPENED:
            return {"round": 0, "due": due, "experts_required": 1}
        case T.REVIEW_SCORED:
            scores = dict.fromkeys(_RUBRIC.keys, float(score))
            return {"round": 0, "expert": "expert-1", "scores": scores, "vetoes": []}
        case T.REVIEW_GRADED:
            return _decision(program, year, base, float(score))
        case T.CYCLE_CLOSED:
            return {"grade": "pass"}
    return {}


def lifecycle(
    program: str, year: int, count: int, bases: int, tag: str = ""
) -> Iterator[CloudEvent]:
    """``count`` events over ``bases`` cycles, round-robin: every cycle takes its next step in
    turn, with gap-free sequences, so a projection applies each one. ``tag`` keeps the ids of
    separate runs apart (JetStream would drop a repeated id as a duplicate)."""
    for n in range(count):
        b, step = n % bases, n // bases
        base = f"e{b:05d}"
        kind = LIFECYCLE[step % len(LIFECYCLE)]
        at = _START + timedelta(minutes=step)
        data = _data(program, year, base, kind, step, at)
        data.update(stage=data.get("stage", "plan_filing"), region=CITIES[b % len(CITIES)])
        yield new_event(
            event_type=kind,
            program=program,
            year=year,
            base=base,
            time=at,
            stream_key=f"bench{tag}/{program}/{year}/{base}",
            sequence=step + 1,
            data=data,
        )
