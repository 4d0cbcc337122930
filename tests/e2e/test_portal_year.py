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
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
import yaml
from playwright.async_api import FilePayload
from playwright.async_api import TimeoutError as PlaywrightTimeout

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
from tests.helpers import until

PROGRAM, YEAR = "demo-fast-portal", 2034
CITY = "410100"  # Zhengzhou: both bases lie there, so one city officer verifies both
BASES = {
    "pa": {"name": "郑州金水专利导航服务基地", "region": "410105", "domain": "生物医药"},
    "pb": {"name": "郑州高新专利导航服务基地", "region": "410102", "domain": "新能源"},
}
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
    links = re.findall(r"\S*/portal/signin/\S+", done.stdout)
    assert links, done.stdout + done.stderr
    printed = urlsplit(links[-1])  # on this stack's own address, whatever host it names
    return f"{stack.url}{printed.path}" + (f"?{printed.query}" if printed.query else "")


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


async def test_a_sign_in_link_signs_in_in_chromium(
    running_stack: RunningStack, browser: Any
) -> None:
    """The link's page and its button, as a person clicks it: a session, on the portal's home.
    The post's Origin is what Chromium sends for this page (its Referrer-Policy decides it:
    no-referrer makes it "null"), so the login-CSRF check is tried as browsers meet it."""
    link = _link(running_stack, "portal-signin-viewer", "viewer", program=PROGRAM)
    context = await browser.new_context()
    page = await context.new_page()
    posted: list[dict[str, str]] = []
    page.on("request", lambda r: posted.append(r.headers) if r.method == "POST" else None)
    await page.goto(link)
    await page.click("form[action^='/portal/signin'] button[type=submit]")
    await page.wait_for_load_state("load")
    origins = [h.get("origin") for h in posted]
    assert "/portal/signin" not in page.url, (
        f"not signed in; the sign-in post carried Origin {origins}: "
        + await page.locator("main").inner_text()
    )
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies["nvc_session"]["httpOnly"] and cookies["nvc_session"]["sameSite"] == "Strict"
    await context.close()


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
    # A sign-in link works once: opened again (in another browser) it is refused in words.
    again = await browser.new_context()
    reopened = await again.new_page()
    answer = await reopened.goto(links["province"])
    assert answer is not None and answer.status == 410, answer and answer.status
    assert await reopened.locator("form[action^='/portal/signin'] button").count() == 0
    await again.close()

    await play_and_check(Year(people, audit), audit)


async def play_and_check(year: Year, audit: Audit) -> None:
    """The year played, its steps saved; then every page the people visited checked by
    axe-core in both languages at both sizes, the rules run listed in an artifact."""
    try:
        await year.play()
    finally:
        (artifact("portal-year-steps.json")).write_text(
            json.dumps(year.steps, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    problems = await audit.check()
    rules = await axe_rules(year.p["province"].page)
    artifact("portal-axe-rules.txt").write_text(
        f"tags: {' '.join(AXE_TAGS)}\nrules ({len(rules)}): {' '.join(rules)}\n"
        f"pages kept: {len(audit.shown)}, checks: {len(audit.checked)}\n"
        + "".join(f"{who} {url} {lang} {size}\n" for who, url, lang, size in audit.checked),
        encoding="utf-8",
    )
    visited = audit.pages()
    assert visited >= PORTAL_PAGES, sorted(PORTAL_PAGES - visited)
    problems |= audit.live
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)[:20_000]
    assert {lang for _, _, lang, _ in audit.checked} >= {"zh", "en"}
    assert {size for _, _, _, size in audit.checked} == {"laptop", "phone"}
    for person in year.p.values():
        await person.context.close()


class Year:
    """The year's steps, each done by one person in the portal; ``steps`` says what happened
    (and when, in seconds from the launch) for the artifact."""

    def __init__(self, people: dict[str, Person], audit: Audit) -> None:
        self.p = people
        self.audit = audit
        self.steps: list[dict[str, Any]] = []
        self.launched = 0.0
        self.reviewer: dict[str, str] = {}  # base -> the expert label who reviews it

    def step(self, who: str, what: str, **detail: Any) -> None:
        at = round(time.monotonic() - self.launched, 1) if self.launched else None
        self.steps.append({"at_s": at, "who": who, "what": what, **detail})

    async def play(self) -> None:
        await self.register_bases()
        await self.a_post_without_the_csrf_token_is_refused()
        await self.launch()
        # demo-fast: plans are due 20 s after the launch, each verification step has 20 s, the
        # self-evaluation is due at 60 s. The two bases and the officers act side by side.
        await asyncio.gather(self.file_plan("pa", PLAN_A), self.file_plan("pb", PLAN_B))
        await self.verify("city", "pa", "return", RETURN_COMMENT)
        await asyncio.gather(
            self.refile_after_return("pa"), self.verify("city", "pb", "approve", "")
        )
        await self.verify("city", "pa", "approve", "已按意见修改，同意。")
        await self.verify("province", "pb", "approve", "")
        await self.verify("province", "pa", "approve", "同意备案。")
        await asyncio.gather(
            self.self_evaluate("pa", {"patents": "36", "reports": "4"}, ("90.0%", "100.0%")),
            self.self_evaluate("pb", {"patents": "15", "reports": "2"}, ("50.0%", "50.0%")),
        )
        await self.score_round_0()
        await self.object_during_publication("pb")
        await self.decide_objection("pb")
        await self.rectify("pb")
        await self.score_rectification("pb")
        await self.results_published()
        await self.everyone_reads_and_is_shot()
        await self.sign_out("expert2")

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

    async def a_post_without_the_csrf_token_is_refused(self) -> None:
        """A script of the signed-in province's page posting to the API with the session
        cookie but without X-CSRF-Token (what another site's script could send): refused,
        nothing registered."""
        province = self.p["province"]
        page = province.page
        answer = await page.evaluate(
            """async ([url, body]) => {
              const r = await fetch(url, {method: 'POST', body: JSON.stringify(body),
                                          headers: {'Content-Type': 'application/json'}});
              return {status: r.status, body: await r.json()};
            }""",
            [
                f"/v1/programs/{PROGRAM}/bases",
                _registration_body("pz", BASES["pb"] | {"domain": "新材料"}),
            ],
        )
        assert (answer["status"], answer["body"]["code"]) == (403, "csrf_failed"), answer
        page = await province.go(f"/portal/province/bases?program={PROGRAM}")
        assert await page.locator("#registered-bases tr[data-base='pz']").count() == 0
        self.step("province", "a post without the CSRF token refused", status=403)

    async def sign_out(self, who: str) -> None:
        person = self.p[who]
        await person.go("/portal/help")
        async with person.page.expect_navigation():
            await person.page.click("header form[action='/portal/signout'] button")
        assert urlsplit(person.page.url).path == "/portal/signin", person.page.url
        await person.page.goto(person.base_url + "/portal/expert")
        assert urlsplit(person.page.url).path == "/portal/signin", "still signed in"
        self.step(who, "signed out; the portal asks them to sign in again")

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
        assert await page.locator("#year-summary-section").get_attribute("data-phase") == ""
        await shoot(province, "province-desk-before-launch")
        assert await province.submit("#launch-form") == ""
        self.launched = time.monotonic()
        self.step("province", "launched", year=YEAR)

    # ------------------------------------------------------------------ plans and verification

    async def file_plan(self, base: str, plan: list[tuple[str, str, str, str]]) -> None:
        staff = self.p[base]
        page = await staff.until_shown("/portal/base", "#plan-form", limit_s=30, every_s=0.5)
        assert await page.locator("#base-glance").get_attribute("data-stage") == "plan_filing"
        countdown = (await page.locator("#base-countdown").inner_text()).strip()
        assert countdown, "no countdown in words"
        for i, (key, name, target, unit) in enumerate(plan, start=1):
            if i > 1:
                await page.click("#add-target")
            await page.fill(f"#target-{i}-key", key)
            await page.fill(f"#target-{i}-name", name)
            await page.fill(f"#target-{i}-target", target)
            await page.fill(f"#target-{i}-unit", unit)
        await page.set_input_files("#plan-file", files=[_pdf("实施方案.pdf", f"plan of {base}")])
        if base == "pa":
            await shoot(staff, "pa-plan-form-filled", check=False)
        assert await staff.submit("#plan-form") == ""
        receipts = page.locator("#receipts-table tr[data-receipt]")
        assert await receipts.count() == 1, await staff.main_text()
        assert re.fullmatch(
            r"[0-9a-f]{64}", await receipts.first.get_attribute("data-sha256") or ""
        )
        self.step(base, "plan filed", countdown=countdown)

    async def verify(self, who: str, base: str, decision: str, comment: str) -> None:
        """An officer opens the base's plan from the queue (the targets beside the document)
        and approves or returns it with a comment."""
        officer = self.p[who]
        queue = f"/portal/officer?program={PROGRAM}&year={YEAR}"
        row = f"#officer-queue tr[data-base='{base}'][data-step='{who}']"
        page = await officer.until_shown(queue, row, limit_s=30, every_s=0.5)
        await page.click(f"{row} a[data-open-plan='{base}']")
        await page.wait_for_selector("#review-form")
        await officer.audit.keep(officer)
        assert await page.locator("#plan-targets-table tr[data-target='patents']").count() == 1
        assert await page.locator("#plan-document-link").count() == 1
        if decision == "return":
            await self.read_the_plan_here(page)
            await shoot(officer, f"{who}-plan-{base}", check=False)
        await page.check(f"#review-{decision}")
        if comment:  # typed as a person types: a key at a time
            await page.click("#review-comment")
            await page.keyboard.type(comment, delay=5)
            typed = await page.input_value("#review-comment")
            assert typed == comment, f"the comment as typed: {typed!r}"
        said = await officer.submit("#review-form")
        assert said == "", said
        assert "/portal/officer" in page.url
        self.step(who, f"plan {decision}", base=base, comment=comment)

    @staticmethod
    async def read_the_plan_here(page: Any) -> None:
        """The officer asks for the plan in the page. A PDF viewer takes the keyboard focus
        once it has loaded, which is why the frame loads only when asked for: a frame loading
        by itself took the keys of an officer already typing (found as a return comment that
        arrived empty). Waits until the viewer has loaded and, if it does, taken the focus."""
        await page.click("#plan-document-show")
        await page.wait_for_selector("#plan-document-frame[data-loaded='1']", state="attached")
        with contextlib.suppress(PlaywrightTimeout):
            await page.wait_for_function(
                "() => document.activeElement?.id === 'plan-document-frame'", timeout=5_000
            )
        assert await page.locator("#plan-document-show").count() == 0

    async def refile_after_return(self, base: str) -> None:
        """The returned plan: the officer's comment on the base's page; the target raised and
        the plan dropped onto the page again."""
        staff = self.p[base]
        page = await staff.until_shown("/portal/base", "#returns tr[data-returned]", limit_s=30)
        shown = await page.locator("#returns [data-comment]").first.text_content()
        assert RETURN_COMMENT in (shown or ""), await staff.main_text()
        await page.wait_for_selector("#plan-form")
        await page.fill("#target-1-target", "40")
        await _drop_file(page, "#plan-drop", "实施方案（修改稿）.pdf", f"plan of {base}, v2")
        chosen = await page.locator("[data-chosen-for='plan-file']").inner_text()
        assert "实施方案（修改稿）.pdf" in chosen
        assert await staff.submit("#plan-form") == ""
        versions = await page.locator("#receipts-table tr[data-receipt] td.num").all_inner_texts()
        assert "2" in [v.strip() for v in versions], versions
        self.step(base, "plan refiled after its return")

    # ------------------------------------------------------------------ self-evaluation

    async def self_evaluate(
        self, base: str, actuals: dict[str, str], completions: tuple[str, ...]
    ) -> None:
        staff = self.p[base]
        page = await staff.until_shown("/portal/base", "#selfeval-form", limit_s=40)
        rows = page.locator("#actuals-table tr[data-actual-row]")
        keys = [await rows.nth(i).get_attribute("data-key") for i in range(await rows.count())]
        assert keys == [k for k, *_ in PLAN_A], keys
        for i, key in enumerate(keys, start=1):
            await page.fill(f"#actual-{i}", actuals[str(key)])
        shown = tuple(
            [
                (t or "").strip()
                for t in await page.locator("output[data-completion]").all_inner_texts()
            ]
        )
        assert shown == completions, shown  # the completion as they type
        await page.set_input_files(
            "#selfeval-file", files=[_pdf("自评报告.pdf", f"self-evaluation of {base}")]
        )
        before = await page.locator("#receipts-table tr[data-receipt]").count()
        assert await staff.submit("#selfeval-form") == ""
        kinds = await page.locator("#receipts-table tr[data-receipt] th").all_inner_texts()
        assert len(kinds) == before + 1, kinds  # the report's receipt beside the plans'
        self.step(base, "self-evaluation filed", completion=shown)

    # ------------------------------------------------------------------ review, 公示

    async def _assigned(self, base: str, round_: int) -> tuple[Person, Any]:
        """The expert whose list holds ``base``'s open review of ``round_``, on its page."""

        async def holder() -> tuple[Person, Any] | None:
            for label in ("expert1", "expert2"):
                expert = self.p[label]
                page = await expert.go("/portal/expert", keep=False)
                row = page.locator(f"#expert-reviews tr[data-review-base='{base}']")
                if await row.count():
                    await expert.audit.keep(expert)
                    await row.first.locator("a").click()
                    await page.wait_for_selector("#review-facts")
                    facts = page.locator("#review-facts")
                    if await page.locator("#score-form").count() and await facts.get_attribute(
                        "data-round"
                    ) == str(round_):
                        await expert.audit.keep(expert)
                        return expert, page
            return None

        found: tuple[Person, Any] = await until(
            holder, what=f"an expert holding {base}'s review {round_}", limit_s=90, every=1.0
        )
        return found

    async def score(
        self, base: str, round_: int, value: str, vetoes: tuple[str, ...], comment: str
    ) -> None:
        expert, page = await self._assigned(base, round_)
        assert await page.locator("#review-targets tr[data-target='patents']").count() == 1
        assert await page.locator("#review-documents tr[data-document-kind]").count() >= 2
        inputs = page.locator("#score-table input[data-score]")
        assert await page.locator("#score-submit").is_disabled()  # nothing sent until valid
        count = await inputs.count()
        for i in range(count):
            await inputs.nth(i).fill(value)
        total = (await page.locator("#score-total").inner_text()).strip()
        assert total.startswith(value), total  # equal scores: the weighted total is the same
        for veto in vetoes:
            await page.check(f"#veto-{veto}")
        await page.fill("#score-comment", comment)
        assert await page.locator("#score-submit").is_enabled()
        if vetoes:
            await shoot(expert, f"{expert.label}-score-form-{base}-veto", check=False)
        said = await expert.submit("#score-form")
        assert said == "", said
        sheet = page.locator(f"#sheet-{round_}")
        await sheet.wait_for()
        assert await sheet.locator("[data-sheet-vetoes]").get_attribute("data-sheet-vetoes") == (
            " ".join(vetoes)
        )
        self.reviewer[f"{base}/{round_}"] = expert.label
        self.step(expert.label, "scored", base=base, round=round_, total=total, vetoes=vetoes)

    async def score_round_0(self) -> None:
        await self.score("pa", 0, "90", (), "导航成果运用充分，数据库建设完善。")
        await self.score("pb", 0, "70", ("false_materials",), "自评材料中专利数据与检索结果不符。")

    async def object_during_publication(self, base: str) -> None:
        """公示 lasts 10 s in demo-fast: the vetoed base's staff lodge an objection in it."""
        staff = self.p[base]
        page = await staff.until_shown("/portal/base", "#objection-form", limit_s=90, every_s=0.5)
        await page.fill("#objection-grounds", OBJECTION)
        await page.fill("#objection-contact", "0371-12345678")
        said = await staff.submit("#objection-form")
        assert said == "", said
        row = page.locator("#objections-table tr[data-objection]")
        assert await row.count() == 1 and await row.get_attribute("data-status") == "lodged"
        self.step(base, "objection lodged during 公示")

    async def decide_objection(self, base: str) -> None:
        province = self.p["province"]
        desk = f"/portal/province?program={PROGRAM}&year={YEAR}"
        page = await province.until_shown(desk, "form[data-objection]", limit_s=30)
        form = page.locator("form[data-objection]").first
        objection = await form.get_attribute("data-objection")
        await page.check(f"#objection-{objection}-dismiss")
        await page.fill(f"#objection-{objection}-reason", DISMISSAL)
        said = await province.submit(f"#objection-{objection}-form")
        assert said == "", said
        row = page.locator(f"#objections-table tr[data-objection='{objection}']")
        assert await row.get_attribute("data-status") == "dismissed"
        staff = self.p[base]
        page = await staff.go("/portal/base")
        mine = page.locator(f"#objections-table tr[data-objection='{objection}']")
        assert await mine.get_attribute("data-status") == "dismissed"
        assert DISMISSAL in await mine.inner_text()
        self.step("province", "objection dismissed", base=base)

    # ------------------------------------------------------------------ rectification

    async def rectify(self, base: str) -> None:
        staff = self.p[base]
        page = await staff.until_shown("/portal/base", "#rect-form", limit_s=60, every_s=0.5)
        assert await page.locator("#base-glance").get_attribute("data-stage") == "rectifying"
        await page.set_input_files(
            "#rect-file", files=[_pdf("整改报告.pdf", f"rectification of {base}")]
        )
        assert await staff.submit("#rect-form") == ""
        self.step(base, "rectification report filed")

    async def score_rectification(self, base: str) -> None:
        await self.score(base, 1, "75", (), "整改到位，材料已更正。")

    # ------------------------------------------------------------------ results

    async def results_published(self) -> None:
        """The grades on the bases' pages after 公示, the year done on the province's desk,
        and the published results (the public 公示 page) naming both bases."""
        expected = {"pa": ("优秀", "closed"), "pb": ("不合格", "closed")}
        for base, (grade, _) in expected.items():
            staff = self.p[base]
            page = await staff.until_shown("/portal/base", "#result-grade", limit_s=120)
            shown = (await page.locator("#result-grade").inner_text()).strip()
            assert shown == grade, (base, shown)
            averages = await page.locator("#averages tr[data-average]").count()
            assert averages == 5, averages  # demo-fast's five indicators
            self.step(base, "result shown", grade=shown)
        province = self.p["province"]
        page = await province.until_shown(
            f"/portal/province?program={PROGRAM}&year={YEAR}",
            "#year-summary-section[data-phase='done']",
            limit_s=180,
        )
        stages = {
            await r.get_attribute("data-base"): await r.get_attribute("data-stage")
            for r in await page.locator("#province-bases tr[data-base]").all()
        }
        assert stages == {b: stage for b, (_, stage) in expected.items()}, stages
        self.step("province", "year done", stages=stages)
        await page.click("#dashboard-link")  # the whole year, on the dashboard
        await page.wait_for_load_state("load")
        assert urlsplit(page.url).path == "/dashboard"
        results = await province.go(f"/results/{PROGRAM}/{YEAR}", keep=False)
        rows = results.locator("tr[data-base]")
        assert {await r.get_attribute("data-base") for r in await rows.all()} == {"pa", "pb"}
        await results.screenshot(path=str(artifact(f"portal-results-{PROGRAM}-{YEAR}.png")))
        self.step("province", "results published", page=f"/results/{PROGRAM}/{YEAR}")

    async def everyone_reads_and_is_shot(self) -> None:
        """Each person's inbox, the rules and the help; each role's main page at both sizes."""
        mains = {
            "province": f"/portal/province?program={PROGRAM}&year={YEAR}",
            "city": f"/portal/officer?program={PROGRAM}&year={YEAR}",
            "pa": "/portal/base",
            "pb": "/portal/base",
            "expert1": "/portal/expert",
            "expert2": "/portal/expert",
        }
        for label, person in self.p.items():
            inbox = await person.go("/portal/inbox")
            assert await inbox.locator("main").inner_text()
            await person.go("/portal/rules")
            await person.go("/portal/help")
            await person.go(mains[label])
            await shoot(person, f"{label}-{person.role}")
        # Need to know: a base's staff opening the other base's page learn no more than from a
        # base that does not exist (404, as the API answers).
        pa = self.p["pa"]
        other = await pa.refused(f"/portal/base/{YEAR}/pb", 404)
        said = other.locator("#base-problem")
        code, words = await said.get_attribute("data-code"), await said.inner_text()
        assert code and words.strip()
        assert BASES["pb"]["name"] not in await other.content()
        missing = await pa.refused(f"/portal/base/{YEAR}/no-such-base", 404)
        assert await missing.locator("#base-problem").get_attribute("data-code") == code
        assert await missing.locator("#base-problem").inner_text() == words
        self.step("pa", "another base's page refused as a missing one", status=404)

        # The language switch is a link in every page's header; the choice is kept.
        await pa.go("/portal/base")
        await pa.page.click("header .who a[href*='lang=en']")
        await pa.page.wait_for_load_state("load")
        assert await pa.page.evaluate("document.documentElement.lang") == "en"
        await pa.go("/portal/base")
        assert await pa.page.evaluate("document.documentElement.lang") == "en"
        await shoot(pa, "pa-base_user-en")
        self.step("pa", "read the page in English")


# Every portal page of the year, as the people reached them (paths; the year and bases filled).
PORTAL_PAGES = {
    "/portal/province/bases",
    "/portal/province",
    "/portal/officer",
    f"/portal/officer/{YEAR}/pa",
    f"/portal/officer/{YEAR}/pb",
    "/portal/base",
    f"/portal/base/{YEAR}/pb",
    "/portal/expert",
    f"/portal/expert/{YEAR}/pa",
    f"/portal/expert/{YEAR}/pb",
    "/portal/inbox",
    "/portal/rules",
    "/portal/help",
}
PLAN_A = [("patents", "新增发明专利", "30", "件"), ("reports", "导航分析报告", "4", "份")]
PLAN_B = PLAN_A
RETURN_COMMENT = "新增发明专利目标偏低，请提高到40件后重新提交。"
OBJECTION = "专利数据差异系检索口径不同所致，并非虚假材料，请复核。"
DISMISSAL = "经复核，自评材料与检索结果确有不符，维持评审结论。"


def _registration_body(base_id: str, base: dict[str, str]) -> dict[str, Any]:
    return {
        "id": base_id,
        "name": base["name"],
        "region": base["region"],
        "domain": base["domain"],
        "host_type": "园区",
        "staff": {"total": 10, "senior_full_time": 4},
        "pct_minimum_data": True,
    }


def _pdf(name: str, text: str) -> FilePayload:
    body = f"%PDF-1.4\n% {text}\n".encode()
    return {"name": name, "mimeType": "application/pdf", "buffer": body}


async def _drop_file(page: Any, zone: str, name: str, text: str) -> None:
    """A file dragged from the desktop and dropped on the page's drop zone."""
    await page.evaluate(
        """([zone, name, text]) => {
          const dt = new DataTransfer();
          dt.items.add(new File([`%PDF-1.4\n% ${text}\n`], name, {type: 'application/pdf'}));
          const target = document.querySelector(zone);
          for (const type of ['dragenter', 'dragover', 'drop']) {
            target.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true,
                                                      cancelable: true}));
          }
        }""",
        [zone, name, text],
    )
