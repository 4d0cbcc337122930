"""Need to know: who reads a program, a base's rows, a provisional grade, a document and the
expert sheets, and what the gateway's view filters leave of each. Pure checks, no servers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from services.gateway import need_to_know
from services.gateway.access import (
    Target,
    allowed,
    row_region_prefix,
    row_visible,
    sees_grade_counts,
    sees_provisional,
    sheet_access,
    unused_scope_flags,
)
from services.gateway.auth import current_user
from services.gateway.identity.tokens import Principal
from services.gateway.openapi_doc import described_app
from services.gateway.portal.session import PortalUser, form_csrf, portal_user
from shared.contracts.cycle import CycleState, HistoryStep
from shared.contracts.dashboard import (
    AppliedEvent,
    CycleSummary,
    OverdueBase,
    Publication,
    YearCounts,
)
from shared.domain.grading import DecisionRecord, Grade, ScoreSheet
from shared.domain.stages import Stage
from tests.helpers import demo_rules

P = "henan-nav-base"
HENAN = "410000"
ZZ = Target(program=P, base="zz-biomed", region="410100", program_region=HENAN)
LY = Target(program=P, base="ly-agri", region="410300", program_region=HENAN)
PROGRAM = Target(program=P, program_region=HENAN)

ADMIN = Principal(name="admin", role="province_admin", program=P)
OTHER_ADMIN = Principal(name="nm-admin", role="province_admin", program="nm-nav-base")
ZZ_STAFF = Principal(name="zz-staff", role="base_user", program=P, base="zz-biomed")
LY_STAFF = Principal(name="ly-staff", role="base_user", program=P, base="ly-agri")
ZZ_CITY = Principal(name="zhengzhou", role="city_officer", region="410100")
HOHHOT = Principal(name="hohhot", role="city_officer", region="150100")  # Inner Mongolia
EXPERT = Principal(name="expert-1", role="expert", program=P)
CO_REVIEWER = Principal(name="expert-2", role="expert", program=P)
VIEWER = Principal(name="screen", role="viewer", program=P)
ZZ_VIEWER = Principal(name="zz-screen", role="viewer", program=P, region="410100")
UNSCOPED_VIEWER = Principal(name="old-screen", role="viewer")  # issued before scopes
OTHER_VIEWER = Principal(name="nm-screen", role="viewer", program="nm-nav-base")
AUDITOR = Principal(name="auditor", role="viewer", program=P, documents=True)
OPERATOR = Principal(name="ops", role="operator", program=P)


@pytest.mark.parametrize(
    ("who", "may"),
    [
        (ADMIN, True),
        (OTHER_ADMIN, False),  # cross-program
        (ZZ_CITY, True),
        (HOHHOT, False),  # a city of another province
        (ZZ_STAFF, True),
        (EXPERT, True),
        (VIEWER, True),
        (OTHER_VIEWER, False),  # scoped to another program
        (UNSCOPED_VIEWER, False),  # a viewer without a program reads nothing
    ],
)
def test_who_reads_a_program(who: Principal, may: bool) -> None:
    assert allowed(who, "read_program", PROGRAM) is may


@pytest.mark.parametrize(
    ("who", "target", "may"),
    [
        (ADMIN, ZZ, True),
        (OTHER_ADMIN, ZZ, False),
        (ZZ_CITY, ZZ, True),
        (ZZ_CITY, LY, False),  # cross-region
        (ZZ_STAFF, ZZ, True),
        (ZZ_STAFF, LY, False),  # another base
        (VIEWER, ZZ, False),  # not granted documents
        (OPERATOR, ZZ, False),
        (AUDITOR, ZZ, True),
        (Principal(name="a", role="viewer", program=P, region="410300", documents=True), ZZ, False),
        (Principal(name="b", role="viewer", program="x", documents=True), ZZ, False),
    ],
)
def test_who_reads_a_document(who: Principal, target: Target, may: bool) -> None:
    assert allowed(who, "read_document", target) is may


def test_an_expert_reads_the_documents_of_the_bases_it_is_assigned_only() -> None:
    assert allowed(EXPERT, "read_document", ZZ, assigned=True)
    assert not allowed(EXPERT, "read_document", ZZ, assigned=False)


def test_a_viewer_reads_a_cycle_only_in_its_program_and_region() -> None:
    assert allowed(VIEWER, "read_cycle", ZZ)
    assert allowed(ZZ_VIEWER, "read_cycle", ZZ)
    assert not allowed(ZZ_VIEWER, "read_cycle", LY)
    assert not allowed(OTHER_VIEWER, "read_cycle", ZZ)
    assert not allowed(UNSCOPED_VIEWER, "read_cycle", ZZ)


@pytest.mark.parametrize(
    ("who", "zz", "ly"),
    [
        (ADMIN, True, True),
        (ZZ_CITY, True, False),
        (ZZ_STAFF, True, False),  # its own row only
        (EXPERT, False, False),  # counts only
        (VIEWER, True, True),
        (ZZ_VIEWER, True, False),
        (OTHER_ADMIN, False, False),
    ],
)
def test_whose_rows_each_reader_sees(who: Principal, zz: bool, ly: bool) -> None:
    assert (row_visible(who, ZZ), row_visible(who, LY)) == (zz, ly)


@pytest.mark.parametrize(
    "who",
    [ADMIN, OTHER_ADMIN, ZZ_CITY, HOHHOT, ZZ_STAFF, EXPERT, VIEWER, ZZ_VIEWER, OPERATOR,
     Principal(name="zz-county", role="city_officer", region="410102"),
     Principal(name="henan", role="city_officer", region="410000")],
)  # fmt: skip
def test_the_rows_a_query_asks_for_are_those_each_reader_sees(who: Principal) -> None:
    """row_region_prefix, the filter the queue's query applies, says what row_visible says of
    every row but a base user's own."""
    prefix = row_region_prefix(who, PROGRAM)
    for region in ("410100", "410102", "410122", "410300", "410000", "150100", "000000"):
        row = Target(program=P, base="some-base", region=region)
        seen = prefix is not None and region.startswith(prefix)
        assert seen == row_visible(who, row), (who.name, region, prefix)


@pytest.mark.parametrize(
    ("who", "may"),
    [
        (ADMIN, True),
        (ZZ_CITY, True),
        (OTHER_ADMIN, False),
        (ZZ_STAFF, False),
        (EXPERT, False),
        (VIEWER, False),
        (OPERATOR, False),
        (Principal(name="luoyang", role="city_officer", region="410300"), False),
    ],
)
def test_provisional_grades_before_publication(who: Principal, may: bool) -> None:
    assert sees_provisional(who, ZZ) is may


@pytest.mark.parametrize(
    ("who", "graded", "published", "assigned", "access"),
    [
        (EXPERT, False, False, True, "own"),
        (CO_REVIEWER, False, False, True, "own"),
        (EXPERT, False, False, False, "none"),  # not assigned to this base
        (ADMIN, False, False, False, "none"),  # until the grade is recorded
        (ADMIN, True, False, False, "all"),
        (OTHER_ADMIN, True, True, False, "none"),
        (ZZ_STAFF, True, False, False, "none"),  # before the 公示
        (ZZ_STAFF, True, True, False, "averages"),
        (LY_STAFF, True, True, False, "none"),
        (VIEWER, True, True, False, "none"),
    ],
)
def test_who_sees_expert_sheets(
    who: Principal, graded: bool, published: bool, assigned: bool, access: str
) -> None:
    got = sheet_access(who, ZZ, graded=graded, published=published, assigned=assigned)
    assert got == access


@pytest.mark.parametrize(
    ("role", "flags", "unused"),
    [
        ("city_officer", {"region", "base"}, ["base"]),
        ("province_admin", {"program", "region"}, ["region"]),
        ("base_user", {"program", "base"}, []),
        ("expert", {"program", "base", "documents"}, ["base", "documents"]),
        ("viewer", {"program", "region", "documents"}, []),
        ("operator", {"program", "base"}, ["base"]),
    ],
)
def test_scope_flags_a_role_does_not_use(role: str, flags: set[str], unused: list[str]) -> None:
    assert unused_scope_flags(role, flags) == unused


# The view filters -----------------------------------------------------------------------------

AT = datetime(2027, 5, 1, tzinfo=UTC)


def _row(base: str, region: str, notice: int = 0) -> CycleSummary:
    return CycleSummary(
        base=base, region=region, stage="graded", grade="A", total=91.0, overdue=0, notice=notice
    )


def test_cycle_rows_hide_other_bases_and_provisional_grades() -> None:
    rows = [_row("zz-biomed", "410100"), _row("ly-agri", "410300")]
    assert [r.base for r in need_to_know.cycle_rows(ADMIN, P, rows)] == ["zz-biomed", "ly-agri"]
    assert [r.base for r in need_to_know.cycle_rows(ZZ_CITY, P, rows)] == ["zz-biomed"]
    assert need_to_know.cycle_rows(EXPERT, P, rows) == []
    [own] = need_to_know.cycle_rows(ZZ_STAFF, P, rows)
    assert (own.base, own.grade, own.total) == ("zz-biomed", None, None)
    [published] = need_to_know.cycle_rows(ZZ_STAFF, P, [_row("zz-biomed", "410100", notice=1)])
    assert (published.grade, published.total) == ("A", 91.0)
    assert all(r.grade is None for r in need_to_know.cycle_rows(VIEWER, P, rows))


def test_the_overdue_list_keeps_only_the_rows_a_reader_may_see() -> None:
    rows = [
        OverdueBase(base="ly-agri", region="410300", city="410300", stage="plan", overdue=1),
        OverdueBase(base="zz-biomed", region="410100", city="410100", stage="plan", overdue=1),
    ]
    assert need_to_know.overdue_rows(ADMIN, P, rows) == rows
    assert need_to_know.overdue_rows(ZZ_STAFF, P, rows) == [rows[1]]
    assert need_to_know.overdue_rows(EXPERT, P, rows) == []


def test_counts_by_grade_only_to_whom_they_are_shown() -> None:
    counts = YearCounts(
        program=P,
        year=2027,
        bases=2,
        by_stage={"graded": 2},
        by_grade={"A": 2},
        overdue=2,
        stream_seq=7,
    )
    assert need_to_know.counts(ADMIN, counts) == counts
    seen = need_to_know.counts(EXPERT, counts)
    assert seen.by_grade == {} and (seen.by_stage, seen.overdue) == ({"graded": 2}, 2)


@pytest.mark.parametrize(
    ("who", "before", "after"),
    [
        (ADMIN, True, True),  # sees every provisional grade anyway
        (OTHER_ADMIN, False, True),  # (reading the program is read_program's to refuse)
        (ZZ_CITY, False, True),  # its region's grades, not the province's distribution
        (ZZ_STAFF, False, True),
        (EXPERT, False, True),
        (VIEWER, False, True),
        (ZZ_VIEWER, False, True),
        (AUDITOR, False, True),  # a document grant is not a grade grant
        (OPERATOR, False, True),
    ],
)
def test_who_sees_the_grade_distribution_before_and_after_the_notice(
    who: Principal, before: bool, after: bool
) -> None:
    assert sees_grade_counts(who, PROGRAM, published=False) is before
    assert sees_grade_counts(who, PROGRAM, published=True) is after
    graded = YearCounts(
        program=P,
        year=2027,
        bases=3,
        by_stage={"graded": 2, "self_evaluation": 1},
        by_grade={"excellent": 1, "fail": 1},
        overdue=0,
        stream_seq=9,
    )
    seen = need_to_know.counts(who, graded)
    assert seen.by_stage == graded.by_stage and seen.bases == 3
    assert seen.by_grade == (graded.by_grade if before else {})
    out = graded.model_copy(update={"publication": Publication(notice=1, kind="公示")})
    assert need_to_know.counts(who, out).by_grade == graded.by_grade


def test_activity_keeps_the_events_of_the_bases_a_reader_may_see() -> None:
    events = [
        AppliedEvent(base="zz-biomed", event_id="1", type="plan.filed", stream_seq=1),
        AppliedEvent(base="ly-agri", event_id="2", type="plan.filed", stream_seq=2),
    ]
    regions = {"zz-biomed": "410100", "ly-agri": "410300"}
    assert need_to_know.activity(ADMIN, P, events, {}) == events
    assert [e.base for e in need_to_know.activity(ZZ_CITY, P, events, regions)] == ["zz-biomed"]
    assert [e.base for e in need_to_know.activity(LY_STAFF, P, events, {})] == ["ly-agri"]
    assert need_to_know.activity(EXPERT, P, events, {}) == []


def _sheet(expert: str, score: float) -> ScoreSheet:
    return ScoreSheet(expert=expert, scores={"i1": score}, comment=f"{expert} says")


def _state(*, graded: bool) -> CycleState:
    sheets = [_sheet("expert-1", 80.0), _sheet("expert-2", 90.0)]
    history = [
        HistoryStep(at=AT, event="review.opened", sequence=1, detail={"experts": ["expert-1"]}),
        *(
            HistoryStep(
                at=AT,
                event="review.scored",
                sequence=2 + i,
                detail={"round": 0, "expert": s.expert, "scores": s.scores},
            )
            for i, s in enumerate(sheets)
        ),
    ]
    decisions = []
    if graded:
        record = DecisionRecord.model_validate(
            {
                "program": P,
                "year": 2027,
                "base": "zz-biomed",
                "rubric": _rubric(),
                "sheets": [s.model_dump() for s in sheets],
                "vetoes": [],
                "evidence_sha256": [],
                "averaged": {"i1": 85.0},
                "total": 85.0,
                "grade": "pass",
                "workflow_run_id": "run",
            }
        )
        decisions.append(record)
        history.append(
            HistoryStep(
                at=AT, event="review.graded", sequence=4, detail=record.model_dump(mode="json")
            )
        )
    return CycleState(
        program=P,
        year=2027,
        base="zz-biomed",
        rules_version=1,
        stage=Stage.GRADED if graded else Stage.UNDER_REVIEW,
        grade=Grade.PASS if graded else None,
        total=85.0 if graded else None,
        experts=["expert-1", "expert-2"],
        history=history,
        decisions=decisions,
    )


def _rubric() -> dict[str, object]:
    return demo_rules().rubric.model_dump(mode="json")


def _names(state: CycleState) -> set[str]:
    text = state.model_dump_json()
    return {n for n in ("expert-1", "expert-2") if n in text}


def test_an_expert_sees_its_own_sheet_and_not_its_co_reviewers() -> None:
    seen = need_to_know.cycle_state(
        EXPERT, _state(graded=False), region="410100", published=False, assigned=True
    )
    assert _names(seen) == {"expert-1"}
    scored = [s.detail for s in seen.history if s.event == "review.scored"]
    assert scored == [{"round": 0, "expert": "expert-1", "scores": {"i1": 80.0}}, {"round": 0}]


def test_the_base_sees_no_sheet_before_the_notice_and_averages_after_never_names() -> None:
    before = need_to_know.cycle_state(
        ZZ_STAFF, _state(graded=True), region="410100", published=False, assigned=False
    )
    assert _names(before) == set()
    assert (before.grade, before.total, before.decisions) == (None, None, [])
    after = need_to_know.cycle_state(
        ZZ_STAFF, _state(graded=True), region="410100", published=True, assigned=False
    )
    assert _names(after) == set()
    assert after.grade == Grade.PASS
    [decision] = after.decisions
    assert decision.sheets == [] and decision.averaged == {"i1": 85.0}
    [graded] = [s.detail for s in after.history if s.event == "review.graded"]
    assert graded["averaged"] == {"i1": 85.0} and "sheets" not in graded


def test_the_province_sees_every_sheet_once_the_grade_is_recorded() -> None:
    state = _state(graded=True)
    assert (
        need_to_know.cycle_state(ADMIN, state, region="410100", published=False, assigned=False)
        == state
    )
    pending = need_to_know.cycle_state(
        ADMIN, _state(graded=False), region="410100", published=False, assigned=False
    )
    assert [s.detail for s in pending.history if s.event == "review.scored"] == [
        {"round": 0},
        {"round": 0},
    ]


def test_only_granted_viewers_and_operators_read_any_document() -> None:
    from services.gateway.access import reads_documents

    assert reads_documents(AUDITOR) and reads_documents(ZZ_STAFF)
    assert not reads_documents(VIEWER) and not reads_documents(OPERATOR)
    assert not reads_documents(Principal(name="x", role="viewer", documents=True))


def test_a_document_grant_is_stored_with_the_user_and_read_back(tmp_path: Path) -> None:
    from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
    from services.gateway.identity.tokens import add_user, authenticate
    from shared.db import make_engine
    from shared.migrations import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    upgrade(engine, GATEWAY_MIGRATIONS)
    token = add_user(engine, AUDITOR)
    assert authenticate(engine, token) == AUDITOR
    assert authenticate(engine, add_user(engine, VIEWER)) == VIEWER


def test_the_city_sees_averages_after_the_notice_and_no_expert_names() -> None:
    seen = need_to_know.cycle_state(
        ZZ_CITY, _state(graded=True), region="410100", published=True, assigned=False
    )
    assert _names(seen) == set() and seen.experts == []
    assert [d.averaged for d in seen.decisions] == [{"i1": 85.0}]


def test_a_timeline_names_a_grade_only_once_published_or_to_the_province_and_city() -> None:
    from shared.contracts.dashboard import BaseTimeline, TimelineItem

    graded = TimelineItem(
        time=AT, sequence=4, type="review.graded", detail="grade: pass", stream_seq=9
    )
    line = BaseTimeline(
        program=P, year=2027, base="zz-biomed", cycle=_row("zz-biomed", "410100"), events=[graded]
    )
    assert need_to_know.timeline(ADMIN, P, line).events[0].detail == "grade: pass"
    assert need_to_know.timeline(ZZ_CITY, P, line).events[0].detail == "grade: pass"
    assert need_to_know.timeline(ZZ_STAFF, P, line).events[0].detail is None
    published = line.model_copy(update={"cycle": _row("zz-biomed", "410100", notice=1)})
    assert need_to_know.timeline(ZZ_STAFF, P, published).events[0].detail == "grade: pass"


# The portal: every page asks who is signed in, through the same policy as the API, except these
# public ones (with the reason); every form it posts carries the session's CSRF token, except
# the sign-in itself (its link is the credential, and a post from another site is refused).
PORTAL_PUBLIC = {
    ("GET", "/portal/signin"): "how to get a sign-in link, and why the person is here",
    ("GET", "/portal/signin/{token}"): "the link's page: a button; it uses nothing",
    ("POST", "/portal/signin"): "uses the link, which is the credential",
    ("POST", "/portal/signout"): "ends the cookie's session, CSRF-checked",
}
PORTAL_MOUNTS = {"/portal/static": "the stylesheet and scripts"}
PORTAL_CSRF_EXEMPT = {("POST", "/portal/signin")}


def _flat_routes(
    routes: Sequence[BaseRoute], prefix: str = "", included: tuple[object, ...] = ()
) -> Iterator[tuple[str, tuple[object, ...], BaseRoute]]:
    """Every route with its full path and the dependencies its inclusion adds; FastAPI keeps an
    included router as one entry of ``app.routes`` (``original_router``)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is None:
            yield prefix + str(getattr(route, "path", "")), included, route
            continue
        context = route.include_context  # type: ignore[attr-defined]
        added = tuple(d.dependency for d in context.dependencies)
        yield from _flat_routes(inner.routes, prefix + context.prefix, included + added)


def _portal_route_problems(app: FastAPI) -> list[str]:
    """Portal routes that ask no one who is signed in, or post without the CSRF check."""

    def calls(dependant: Dependant) -> set[object]:
        found: set[object] = set()
        for sub in dependant.dependencies:
            found |= {sub.call} | calls(sub)
        return found

    found = []
    for path, included, route in _flat_routes(app.routes):
        if path != "/portal" and not path.startswith("/portal/"):
            continue
        if isinstance(route, Mount):
            if path not in PORTAL_MOUNTS:
                found.append(f"{path}: a mount not among the public ones")
            continue
        if not isinstance(route, APIRoute):
            found.append(f"{path}: not an APIRoute, its dependencies cannot be checked")
            continue
        asked = calls(route.dependant) | set(included)
        for method in sorted(route.methods or ()):
            key = (method, path)
            if key not in PORTAL_PUBLIC and not asked & {portal_user, current_user}:
                found.append(f"{method} {path}: asks no one who is signed in")
            unsafe = method in {"POST", "PUT", "PATCH", "DELETE"}
            if unsafe and key not in PORTAL_CSRF_EXEMPT and not asked & {form_csrf, current_user}:
                found.append(f"{method} {path}: posts without the CSRF check")
    return found


def test_every_portal_route_asks_who_is_signed_in_or_is_public_by_design() -> None:
    app = described_app()
    portal = {
        (method, path)
        for path, _, route in _flat_routes(app.routes)
        if path.startswith("/portal") and isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert portal >= set(PORTAL_PUBLIC) | {("GET", "/portal")}  # the walk sees the pages
    assert _portal_route_problems(app) == []


def test_the_portal_route_check_catches_an_unguarded_page_and_an_unchecked_form() -> None:
    app = described_app()

    @app.get("/portal/leak")
    async def leak() -> str:
        return "every base's grades"

    @app.post("/portal/change")
    async def change(user: PortalUser) -> str:
        return user.name

    app.router.routes.append(Route("/portal/raw", lambda request: None))
    assert _portal_route_problems(app) == [
        "GET /portal/leak: asks no one who is signed in",
        "POST /portal/change: posts without the CSRF check",
        "/portal/raw: not an APIRoute, its dependencies cannot be checked",
    ]
