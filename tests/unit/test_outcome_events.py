"""outcome.decided as the program year publishes it: built from a decision, read back whole, and
passed over by the dashboard's cycle views and the notifier, which do not know it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.dashboard.projection import (
    CycleView,
    Touched,
    YearView,
    apply,
    apply_year,
    timeline_detail,
    touched,
)
from services.notifier.notices import notices_for
from shared.domain.outcome_rules import decide_outcomes
from shared.events.envelope import YEAR_SOURCE, CloudEvent, new_event
from shared.events.payloads import OutcomeDecided, read_payload
from tests.helpers import demo_rules
from tests.unit.test_outcome_rules import RULES


def _decided() -> CloudEvent:
    [decision] = decide_outcomes(RULES, "fail", {2025: "fail"}, year=2026)
    return new_event(
        payload=OutcomeDecided(**decision.model_dump()),
        program="p",
        year=2026,
        base="b1",
        time=datetime(2026, 12, 1, tzinfo=UTC),
        stream_key="program-year/p/2026",
        sequence=40,
        source=YEAR_SOURCE,
    )


def test_a_decision_reads_back_with_its_record() -> None:
    event = CloudEvent.read(_decided().to_json())
    assert event.type == "navcycle.outcome.decided" and event.source == YEAR_SOURCE
    assert event.dataschema.endswith("/outcome.decided.v1.json")
    payload = read_payload(event)
    assert isinstance(payload, OutcomeDecided)
    assert (payload.kind, payload.rule) == ("exit", "outcomes.exit")
    assert [(g.year, g.grade) for g in payload.grades] == [(2025, "fail"), (2026, "fail")]
    assert event.data["words_zh"] == "连续2年（2025—2026年度）评估不合格，予以摘牌，退出基地序列"


def test_the_dashboard_and_the_notifier_pass_it_over() -> None:
    """Not the cycle's stream: its sequence (the program year's) never enters the base's cycle
    view, no year view changes, and no notice is sent for it."""
    event = _decided()
    cycle = CycleView(program="p", year=2026, base="b1", stage="rectifying", last_sequence=12)
    assert apply(replace(cycle), event) == cycle
    assert apply_year(YearView(program="p", year=2026), event) == YearView(program="p", year=2026)
    assert touched(event) == Touched()
    assert notices_for(event) == []
    assert timeline_detail(event) == (None, None)


def test_rules_without_outcome_rules_decide_nothing_to_publish() -> None:
    assert decide_outcomes(demo_rules(), "fail", {2025: "fail"}, year=2026) == []
