"""Outcome rules over two years on the time-skipping server: a program with a reward tier for
excellent and an exit after two consecutive fails. One base fails both years (rectifying in
between, so it is still there the second year); the other is excellent both years. The second
year's finalization decides the exit with both years in its record; the excellent base gets its
tier each year; the first year decides no exit. The registry acts on the decisions it reads from
the log (issue 16): the exiting base ends de-listed there, the tier changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.registry.tables import OutcomeActionRow
from shared.db import session_scope
from shared.domain.rules import ProgramRules
from shared.domain.stages import Stage
from shared.eventlog import read_events
from shared.events.envelope import YEAR_SOURCE
from shared.events.subjects import event_filter
from tests.conftest import Stack
from tests.helpers import demo_rules, fresh_year, record_history, until
from tests.integration import driver
from tests.integration.test_program_year import cycles, launch
from tests.integration.test_results_story import score_open_review

PROGRAM = "outcome-demo"
FAILS, BEST = "oc-fails", "oc-best"
TOTALS = {FAILS: 50.0, BEST: 92.0}
EXIT_CLAUSE = "chosen: 连续两年评估不合格的，予以摘牌退出"


def outcome_rules() -> ProgramRules:
    """demo-fast without verification steps, with an hour to rectify (nothing lapses while the
    test acts), a tier A for excellent and an exit after two fails."""
    rules = demo_rules(
        id=PROGRAM,
        verification=[],
        calendar__reminders=[],
        calendar__rectification_period="PT1H",
        outcomes__tiers=[
            {
                "key": "A",
                "grade": "excellent",
                "words_zh": "给予A档奖励",
                "words_en": "a tier A reward",
                "amount_yuan": 200000,
            }
        ],
        outcomes__exit={"fails": 2},
    )
    document = rules.model_dump(mode="json", by_alias=True)
    document["provenance"] = {"outcomes.exit": EXIT_CLAUSE}
    return ProgramRules.model_validate(document)


async def decided(stack: Stack, year: int) -> list[tuple[int, Any]]:
    """The year's outcome.decided events as (stream sequence, event), in the log's order."""
    return await read_events(
        stack.nc.jetstream(), event_filter(PROGRAM, year, event_type="outcome.decided")
    )


def registry_effect(stack: Stack, event_id: str) -> str | None:
    """What the stack's registry did with an outcome.decided event (None: not acted on yet)."""
    with session_scope(stack.registry_db) as session:
        row = session.get(OutcomeActionRow, event_id)
        return row.effect if row is not None else None


async def play_year(
    stack: Stack, rules: ProgramRules, year: int, *, rectify: bool, history: str = ""
) -> Any:
    """One year: both bases file, are scored, and the year's results become final; the failing
    base rectifies (and stays) when ``rectify``, else its rectification lapses. ``history``: the
    name its program year's history is recorded under (for the replay tests)."""
    program_year = await launch(stack, rules, year, expected=2)
    handles = cycles(stack, rules, year, [FAILS, BEST])
    for handle in handles.values():
        await driver.file_plan(stack, handle, f"%PDF-1.4 {handle.id}".encode())
        await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))  # the self-evaluation falls due
    for base, handle in handles.items():
        await score_open_review(handle, rules, TOTALS[base], [])
    ordered = await until(
        lambda: driver.state(handles[FAILS]),
        lambda s: s.stage == Stage.RECTIFYING,
        "the year final and the rectification ordered",
    )
    assert ordered.final_grade == "fail"
    if rectify:
        await driver.file_rectification(stack, handles[FAILS])
        await score_open_review(handles[FAILS], rules, 72, [])
    done = await program_year.result()
    if history:
        await record_history(program_year, history)
    return done


async def test_two_fails_exit_with_both_years_and_excellent_gets_its_tier(stack: Stack) -> None:
    rules = outcome_rules()
    driver.register(stack, rules, [FAILS, BEST])
    first = fresh_year()
    second = first + 1

    done = await play_year(stack, rules, first, rectify=True)
    assert done.phase == "done"
    assert driver.base_status(stack, PROGRAM, FAILS) == "active"
    [(_, tier)] = await decided(stack, first)
    assert (tier.base, tier.source, tier.data["kind"], tier.data["tier"]) == (
        BEST,
        YEAR_SOURCE,
        "tier",
        "A",
    )
    assert tier.data["grades"] == [{"year": first, "grade": "excellent"}]
    assert tier.data["amount_yuan"] == 200000
    assert tier.data["words_zh"] == f"{first}年度评估优秀，给予A档奖励（200000元）"

    done = await play_year(
        stack, rules, second, rectify=False, history="program-year-outcome-decisions"
    )
    assert done.phase == "done"
    events = {e.base: e for _, e in await decided(stack, second)}
    assert sorted(events) == [BEST, FAILS]
    exit_ = events[FAILS]
    assert exit_.data == {
        "kind": "exit",
        "rule": "outcomes.exit",
        "clause": EXIT_CLAUSE,
        "grades": [{"year": first, "grade": "fail"}, {"year": second, "grade": "fail"}],
        "words_zh": f"连续2年（{first}—{second}年度）评估不合格，予以摘牌，退出基地序列",
        "words_en": f"failed 2 years running ({first}-{second}):"
        " de-listed: the base leaves the programme",
        "tier": None,
        "amount_yuan": None,
        "ban": None,
    }
    assert events[BEST].data["grades"] == [{"year": second, "grade": "excellent"}]

    # The registry's consumer acts on each decision once: the exit de-lists the failing base
    # (unless its lapsed rectification de-listed it first: then the exit finds it de-listed),
    # the tier leaves the excellent base as it is.
    effects = await until(
        lambda: {b: registry_effect(stack, e.id) for b, e in events.items()},
        lambda seen: None not in seen.values(),
        "the registry acting on the year's outcome decisions",
    )
    assert effects[BEST] == "none"
    assert effects[FAILS] in ("delisted", "already_delisted")
    assert driver.base_status(stack, PROGRAM, FAILS) == "delisted"
    assert driver.base_status(stack, PROGRAM, BEST) == "active"

    # The decisions follow results.finalized in the program year's own numbering, without gaps.
    finalized = await read_events(
        stack.nc.jetstream(), event_filter(PROGRAM, second, "_", "results.finalized")
    )
    [(_, final)] = finalized
    assert sorted(e.sequence for e in events.values()) == [final.sequence + 1, final.sequence + 2]
