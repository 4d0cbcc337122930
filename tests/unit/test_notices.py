import re
from datetime import UTC, datetime

from services.notifier.delivery import sign, verify
from services.notifier.notices import notices_for
from shared.events.envelope import new_event
from shared.events.types import EventType

# What each payload model requires (as every producer writes it); a case adds what it shows.
REQUIRED: dict[EventType, dict[str, object]] = {
    EventType.PROGRAM_LAUNCHED: {"rules_version": 1},
    EventType.REMINDER_SENT: {"deadline": "plan"},
    EventType.RECTIFICATION_ORDERED: {"round": 1},
    EventType.EXPERT_ASSIGNED: {"program": "p", "year": 2026, "base": "b1"},
    EventType.DEADLINE_RECOMPUTED: {"calendar": "cn", "calendar_version": 2},
    EventType.BASE_DESIGNATED: {"grade": "excellent"},
    EventType.OBJECTION_LODGED: {"base": "b1"},  # the data's base: ``base=`` is the envelope's
    EventType.OBJECTION_DECIDED: {"base": "b1"},
    EventType.BASE_REINSTATED: {"status": "active"},
    EventType.PLAN_FILED: {
        "document": {
            "document_id": "d1",
            "kind": "plan",
            "version": 1,
            "key": "k",
            "sha256": "0" * 64,
            "size": 1,
            "content_type": "application/pdf",
            "filename": "plan.pdf",
            "filed_by": "b1",
            "filed_at": "2026-03-01T00:00:00+08:00",
        }
    },
}


def _event(event_type: EventType, base: str | None = "b1", **data: object):  # type: ignore[no-untyped-def]
    return new_event(
        event_type=event_type,
        program="p",
        year=2026,
        base=base,
        time=datetime.now(UTC),
        stream_key="k",
        sequence=1,
        data={**REQUIRED.get(event_type, {}), **data},
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


ISO = re.compile(r"\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}")


def _texts(notices) -> str:  # type: ignore[no-untyped-def]
    return " ".join(n.title_zh + n.title_en + n.body_zh + n.body_en for n in notices)


def test_deadlines_are_in_words_never_iso() -> None:
    notices = notices_for(
        _event(
            EventType.RECTIFICATION_ORDERED,
            due="2026-11-30T14:20:00.555832+00:00",
            last_day=None,
            provisional=False,
        )
    )
    assert "请于2026年11月30日22时20分前完成整改" in notices[0].body_zh
    assert "by 22:20 on 30 November 2026 (Beijing time)" in notices[0].body_en
    day = notices_for(
        _event(
            EventType.RECTIFICATION_ORDERED,
            due="2027-01-08T00:00:00+08:00",
            last_day="2027-01-07",
            provisional=True,
        )
    )
    assert "2027年1月7日24时前（暂定，待节假日安排公布后确定）" in day[0].body_zh
    assert "by end of 7 January 2027 (provisional" in day[0].body_en
    assert not ISO.search(_texts(notices + day))


def test_delisting_quotes_no_province_rules() -> None:
    text = _texts(notices_for(_event(EventType.BASE_DELISTED, reason="not rectified")))
    assert "导航基地管理序列" not in text and "内蒙古" not in text
    assert "本项目评估规则" in text


def test_new_event_notices_go_to_the_right_people_in_words() -> None:
    due = {"due": "2027-04-02T00:00:00+08:00", "last_day": "2027-04-01", "provisional": False}
    cases = {
        EventType.EXPERT_ASSIGNED: (
            {"expert": "exp-li", "round": 1, **due},
            [("expert", "exp-li")],
        ),
        EventType.EXPERT_REASSIGNED: (
            {"replaced": "exp-wang", "expert": "exp-li", "round": 1, "reason": "silent", **due},
            [("province", ""), ("expert", "exp-li")],
        ),
        EventType.DEADLINE_RECOMPUTED: (
            {
                "deadline": "self_evaluation",
                "from": {"due": "2027-01-05T00:00:00+08:00", "last_day": "2027-01-04"},
                "to": due,
            },
            [("base", ""), ("city", "")],
        ),
        EventType.DEADLINE_MOVED: (
            {"deadline": "self_evaluation", "from": due, "to": due, "reason": "plan_accepted_late"},
            [("base", ""), ("city", "")],
        ),
        EventType.OBJECTION_LODGED: (
            {"objection_id": "o1", "base": "b1"},
            [("base", ""), ("province", "")],
        ),
        EventType.OBJECTION_DECIDED: (
            {"objection_id": "o1", "base": "b1", "decision": "upheld", "reason": "属实"},
            [("base", ""), ("province", "")],
        ),
        EventType.RESULTS_CORRECTED: (
            {"notice": 2, "corrected": ["b1"], "publication_last_day": "2027-01-15"},
            [("program", ""), ("province", "")],
        ),
        EventType.BASE_REINSTATED: ({"reason": "复议"}, [("base", ""), ("province", "")]),
        EventType.CYCLE_ENDED: (
            {"reason": "not rectified", "delisted_in_year": 2026},
            [("base", ""), ("province", "")],
        ),
        EventType.PLAN_STEP_TAKEN_OVER: (
            {"step": "city", "how": "province", **due},
            [("base", ""), ("city", ""), ("province", "")],
        ),
        EventType.BASE_DESIGNATED: (due, [("base", ""), ("province", "")]),
    }
    for event_type, (data, expected) in cases.items():
        notices = notices_for(_event(event_type, **data))
        assert [(n.audience, n.recipient) for n in notices] == expected, event_type
        text = _texts(notices)
        assert not ISO.search(text), (event_type, text)
        assert all(len(n.kind) <= 16 and len(n.title_zh) <= 200 for n in notices)
    assigned = notices_for(_event(EventType.EXPERT_ASSIGNED, expert="exp-li", round=1, **due))
    assert "2027年4月1日24时前" in assigned[0].body_zh
    recomputed = _texts(
        notices_for(
            _event(
                EventType.DEADLINE_RECOMPUTED,
                deadline="plan",
                **{"from": {"due": "2027-01-05T00:00:00+08:00"}},
                to={"due": "2027-01-06T00:00:00+08:00"},
            )
        )
    )
    assert "原为2027年1月4日24时前，现为2027年1月5日24时前" in recomputed
    corrected = _texts(notices_for(_event(EventType.RESULTS_CORRECTED, base=None, notice=2)))
    assert "补充公示（第2号）" in corrected
