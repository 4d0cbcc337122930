from datetime import UTC, datetime

from services.notifier.delivery import sign, verify
from services.notifier.notices import notices_for
from shared.events.envelope import new_event
from shared.events.types import EventType


def _event(event_type: EventType, base: str | None = "b1", **data: object):  # type: ignore[no-untyped-def]
    return new_event(
        event_type=event_type,
        program="p",
        year=2026,
        base=base,
        time=datetime.now(UTC),
        stream_key="k",
        sequence=1,
        data=dict(data),
    )


def test_each_notice_kind_in_both_languages() -> None:
    cases = {
        EventType.PROGRAM_LAUNCHED: ("launch", ["program"], "启动通知"),
        EventType.REMINDER_SENT: ("reminder", ["base"], "催办提醒"),
        EventType.PLAN_OVERDUE: ("overdue", ["base", "city"], "逾期通知"),
        EventType.RECTIFICATION_ORDERED: ("rectification", ["base"], "整改通知"),
        EventType.BASE_DELISTED: ("delisting", ["base", "province"], "摘牌通知"),
        EventType.RESULTS_PUBLISHED: ("publication", ["program"], "公示"),
    }
    for event_type, (kind, audiences, word) in cases.items():
        notices = notices_for(_event(event_type, deadline="plan", due="2026-04-01T00:00:00+08:00"))
        assert [n.audience for n in notices] == audiences, event_type
        assert all(
            n.kind == kind and word in n.title_zh and n.title_en and n.body_en for n in notices
        )


def test_escalations_go_to_the_officers_and_quiet_events_make_no_notice() -> None:
    escalation = notices_for(
        _event(EventType.REMINDER_SENT, deadline="plan_review", escalation=True, to="city")
    )
    assert [n.audience for n in escalation] == ["city"] and "实施方案核实" in escalation[0].title_zh
    assert notices_for(_event(EventType.PLAN_FILED)) == []


def test_signatures_verify_and_detect_tampering() -> None:
    signature = sign("k3y", "1700000000", b'{"a":1}')
    assert verify("k3y", "1700000000", b'{"a":1}', signature)
    assert not verify("k3y", "1700000000", b'{"a":2}', signature)
    assert not verify("other", "1700000000", b'{"a":1}', signature)
