"""The portal's objections are pages, never the year's whole list: a base's page asks the
program year for that base's own objections, a page at a time, and the province desk shows one
page of the year's with a "next page" link that carries the cursor. The real test stack of
``test_portal_officer`` (its gateway, dashboard and fixtures); a year in 公示 built by the
objection routes' tests' helper; the page sizes lowered so a few objections make pages."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from services.gateway.portal import base_pages, officer_pages
from tests.conftest import Stack
from tests.integration import test_objection_routes as objection_routes
from tests.integration import test_portal_officer as officer
from tests.integration.gateway_fixture import Api
from tests.integration.test_objection_routes import published_year

# The officers' pages' fixtures: the gateway over a dashboard of the test's own.
api, dashboard, queries = officer.api, officer.dashboard, officer.queries

PROGRAM, BASE, OTHER = objection_routes.PROGRAM, objection_routes.BASE, "ly-agri"


class Listed(HTMLParser):
    """The objections a page lists (its rows' ids, in order) and its links by id."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.objections: list[str] = []
        self.links: dict[str, str] = {}
        self._link: str | None = None
        self.words: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "data-objection" in a:
            self.objections.append(a["data-objection"])
        if tag == "a" and "id" in a:
            self.links[a["id"]] = a.get("href", "")
            self._link = a["id"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self.words[self._link] = self.words.get(self._link, "") + data.strip()


async def read(api: Api, who: str, path: str) -> Listed:
    resp = await api.http.get(path, headers=api.auth(who))
    assert resp.status_code == 200, resp.text[:500]
    return Listed(resp.text)


def followed(path: str, href: str) -> str:
    """A link's target as the browser resolves it against ``path`` (``?...`` or ``/...``)."""
    href = href.split("#", 1)[0]
    return path.split("?", 1)[0] + href if href.startswith("?") else href


async def lodge(api: Api, year: int, who: str, base: str, n: int) -> str:
    sent = await api.http.post(
        f"/v1/programs/{PROGRAM}/years/{year}/objections",
        json={"base": base, "grounds": f"第 {n} 条：自评报告中的专利数量与实际不符"},
        headers={**api.auth(who), "Idempotency-Key": f"portal-paged-{year}-{n}"},
    )
    assert sent.status_code == 201, sent.text
    objection_id: str = sent.json()["objection_id"]
    return objection_id


async def test_a_bases_page_lists_its_own_objections_a_page_at_a_time(
    stack: Stack, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Objections against the two bases, interleaved: the base's staff see only theirs, two a
    page, the rest behind the "next page" link; the province reading either base's page sees
    that base's alone."""
    monkeypatch.setattr(base_pages, "OBJECTIONS_PAGE", 2)
    _, year, _ = await published_year(stack, [BASE, OTHER])
    against: dict[str, list[str]] = {BASE: [], OTHER: []}
    for n, (who, base) in enumerate(
        [
            ("obj_admin", OTHER),
            ("obj_staff", BASE),
            ("obj_admin", OTHER),
            ("obj_staff", BASE),
            ("obj_admin", BASE),
            ("obj_admin", OTHER),
        ]
    ):
        against[base].append(await lodge(api, year, who, base, n))

    path = f"/portal/base/{year}"
    first = await read(api, "obj_staff", path)
    assert first.objections == against[BASE][:2]
    assert "objections-first" not in first.links and first.words["objections-more"] == "下一页异议"
    second = await read(api, "obj_staff", followed(path, first.links["objections-more"]))
    assert second.objections == against[BASE][2:]
    assert "objections-more" not in second.links and "objections-first" in second.links
    back = await read(api, "obj_staff", followed(path, second.links["objections-first"]))
    assert back.objections == against[BASE][:2]

    for base in (BASE, OTHER):
        path = f"/portal/base/{year}/{base}?program={PROGRAM}&lang=en"
        shown = await read(api, "obj_admin", path)
        assert shown.objections == against[base][:2]
        assert shown.words["objections-more"] == "Next page of objections"
        rest = await read(api, "obj_admin", followed(path, shown.links["objections-more"]))
        assert rest.objections == against[base][2:]


async def test_the_province_desk_lists_one_page_of_objections_and_links_the_next(
    stack: Stack, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven objections, three a page: the desk lists the first three (each with its decision
    form), and its "next page" links give the others, none lost or repeated, in the order
    lodged; a cursor the list never gave is refused."""
    monkeypatch.setattr(officer_pages, "OBJECTIONS_PAGE", 3)
    _, year, _ = await published_year(stack, [BASE, OTHER])
    lodged = [
        await lodge(api, year, "obj_staff" if n % 2 else "obj_admin", (OTHER, BASE)[n % 2], n)
        for n in range(7)
    ]
    path = f"/portal/province?program={PROGRAM}&year={year}"
    resp = await api.http.get(path, headers=api.auth("obj_admin"))
    assert resp.status_code == 200, resp.text[:500]
    desk = officer.Page(resp.text)
    first = Listed(resp.text)
    assert first.objections == lodged[:3]
    assert {f"objection-{o}-form" for o in lodged[:3]} <= set(desk.forms)
    assert not {f"objection-{o}-form" for o in lodged[3:]} & set(desk.forms)
    assert first.words["objections-more"] == "下一页异议"

    seen, shown, pages = list(first.objections), first, 1
    while "objections-more" in shown.links:
        shown = await read(api, "obj_admin", followed(path, shown.links["objections-more"]))
        assert "objections-first" in shown.links
        assert 0 < len(shown.objections) <= 3
        seen += shown.objections
        pages += 1
    assert seen == lodged and pages == 3

    en = await read(api, "obj_admin", f"{path}&lang=en")
    assert en.words["objections-more"] == "Next page of objections"
    refused = await api.http.get(
        f"{path}&objections_after=never-given", headers=api.auth("obj_admin")
    )
    assert refused.status_code == 422 and "unknown_cursor" in refused.text
