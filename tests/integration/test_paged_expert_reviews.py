"""An expert's reviews (``assignments.of_expert``) are pages: more reviews than one NATS message
holds are read back whole, page by page, over NATS (each reply within the reply budget), each
page in one query of the assessment service; the expert's portal page lists one page and links
the next with its cursor."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from services.assessment.tables import AssignmentRow, DecisionRow
from services.gateway.identity.tokens import Principal
from services.gateway.portal.expert_pages import EXPERT_PAGE
from shared.bulk import insert_rows
from shared.db import session_scope
from tests.conftest import Stack
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.portal_html import Html
from tests.integration.test_paged_year_lists import (
    NATS_DEFAULT_MAX_PAYLOAD,
    assert_paged,
    over_nats,
)

EXPERT = "专家-长列表"
YEARS = (2031, 2030, 2029)
PER_YEAR = 3_200  # 80% of them its own: 7,680 reviews of ~143 B, ~1.05 MiB in all
DUE = datetime(2031, 6, 30, 16, tzinfo=UTC)


def _base(n: int) -> str:
    return f"b{n:05d}-".ljust(64, "x")


@pytest.fixture
def reviews(stack: Stack) -> tuple[str, list[str], set[str]]:
    """A program where the expert holds a place on ``PER_YEAR`` reviews a year: on the latest
    round of each (an earlier round of some, a place replaced on others, are not its), some
    decided; another expert's places beside them. The ids expected, in order, and the decided."""
    program = f"er-{uuid.uuid4().hex[:8]}"
    places: list[dict[str, object]] = []
    decisions: list[dict[str, object]] = []
    expected: list[str] = []
    decided: set[str] = set()

    def place(year: int, base: str, round_: int, expert: str, replaced: bool = False) -> None:
        places.append(
            {
                "program": program, "year": year, "base": base, "round": round_,
                "expert": expert, "assigned_at": DUE, "due": DUE,
                "replaced_at": DUE if replaced else None, "reason": "",
            }
        )  # fmt: skip

    for year in YEARS:
        for n in range(PER_YEAR):
            base = _base(n)
            place(year, base, 0, "another")
            if n % 10 == 3:  # its place went to another expert: not its review
                place(year, base, 0, EXPERT, replaced=True)
                continue
            if n % 10 == 5:  # it was on round 0, but round 1 is the latest: not its review
                place(year, base, 0, EXPERT)
                place(year, base, 1, "another")
                continue
            place(year, base, 0, EXPERT)
            expected.append(f"{year}/{base}")
            if n % 4 == 0:
                decisions.append(
                    {"program": program, "year": year, "base": base, "round": 0,
                     "total": 80.0, "grade": "pass", "record": {}}
                )  # fmt: skip
                decided.add(f"{year}/{base}")
    with session_scope(stack.assessment_db) as session:
        for start in range(0, len(places), 5000):
            insert_rows(session, AssignmentRow.__table__, places[start : start + 5000])  # type: ignore[attr-defined]
        insert_rows(session, DecisionRow.__table__, decisions)  # type: ignore[attr-defined]
    return program, expected, decided


@pytest.fixture
async def api(
    stack: Stack, nc: NatsClient, tmp_path: Path, reviews: tuple[str, list[str], set[str]]
) -> AsyncIterator[Api]:
    expert = Principal(name=EXPERT, role="expert", program=reviews[0])
    async with gateway(stack, nc, tmp_path, {"expert": expert}) as api:
        yield api


async def test_an_experts_reviews_past_one_message_are_read_back_page_by_page(
    nc: NatsClient, reviews: tuple[str, list[str], set[str]]
) -> None:
    program, expected, decided = reviews
    ask = {"program": program, "expert": EXPERT}
    walked = await over_nats(nc, "assessment", "assignments.of_expert", ask, "reviews", _review_id)
    assert_paged(walked, expected)  # newest year first, then by base; whole, once each
    assert sum(walked.sizes) > NATS_DEFAULT_MAX_PAYLOAD
    # Which are decided, as the decisions table says.
    ask_decided = await over_nats(
        nc, "assessment", "assignments.of_expert", ask, "reviews", _decided_id
    )
    assert {i for i in ask_decided.ids if i.endswith("|decided")} == {
        f"{i}|decided" for i in decided
    }


async def test_the_expert_page_lists_one_page_and_links_the_next(
    api: Api, reviews: tuple[str, list[str], set[str]]
) -> None:
    _, expected, _ = reviews
    first = await api.http.get("/portal/expert", headers=api.auth("expert"))
    assert first.status_code == 200, first.text[:300]
    more = Html(first.text).find("a", id="reviews-more")
    cursor = expected[EXPERT_PAGE - 1]
    assert [a["href"] for a in more] == [f"/portal/expert?after={cursor}"]
    second = await api.http.get(more[0]["href"], headers=api.auth("expert"))
    assert second.status_code == 200
    page = Html(second.text)
    assert page.find("a", id="reviews-first") and page.find("a", id="reviews-more")
    refused = await api.http.get("/portal/expert?after=nonsense", headers=api.auth("expert"))
    assert refused.status_code == 422


def _review_id(item: dict[str, object]) -> str:
    return f"{item['year']}/{item['base']}"


def _decided_id(item: dict[str, object]) -> str:
    return _review_id(item) + ("|decided" if item["decided"] else "")
