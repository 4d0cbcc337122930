"""The people of a year in the work portal, driven in headless Chromium, and what checks pages.

- :class:`Person`: one signed-in person in a browser context of their own: goes to a portal page,
  fills and submits its forms (posted by portal.js to the ``/v1`` API) and waits for the answer,
  the next page or the problem shown in words;
- :class:`Audit`: every portal page a person visits is kept as the server sent it, in both
  languages, and checked afterwards with axe-core (from the ``axe-playwright-python`` package,
  nothing downloaded at test time) at both sizes, 1366×768 and 390×844;
- :func:`shoot`: a person's page at both sizes, saved as a test artifact.

The year moves in real time (demo-fast windows are seconds long), so the pages are checked with
axe after the year rather than while a window runs: the HTML each visit received is served again
(to the same person, at the same address) for the check, so what is checked is what was shown.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from playwright.async_api import Browser, BrowserContext, Page, Route
from playwright.async_api import Error as PlaywrightError

from tests.helpers import until

ARTIFACTS = Path(os.environ.get("NAVCYCLE_TEST_ARTIFACTS", "test-artifacts"))
CHROMIUM = os.environ.get("NAVCYCLE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SIZES: dict[str, tuple[int, int]] = {"laptop": (1366, 768), "phone": (390, 844)}
LANGS = ("zh", "en")
# WCAG 2.0 and 2.1, levels A and AA: the rules of axe-core carrying these tags are run.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_JS = files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
AXE_RUN = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                     resultTypes: ['violations']});
  return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                   nodes: v.nodes.slice(0, 5).map((n) => n.html)}));
}"""
SIGNIN_LINK = re.compile(r"(/portal/signin/)[^?#]+")
# What differs between two renderings of the same page: its session's CSRF token, the fresh
# Idempotency-Key of each form, the numbers (a countdown, a time). Pages equal but for these are
# checked once.
VARYING = re.compile(
    r'(?:(?<=name="csrf-token" content=")|(?<=name="csrf_token" value=")'
    r'|(?<=data-idempotency="))[^"]*|\d+'
)


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


def with_lang(url: str, lang: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("lang", lang)]), fragment=""))


def without_lang(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of the WCAG 2.0/2.1 A and AA rules on ``page`` as it is now."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE_JS)
    found: list[dict[str, Any]] = await page.evaluate(AXE_RUN, AXE_TAGS)
    return found


async def axe_rules(page: Page) -> list[str]:
    """The ids of the axe-core rules that :func:`axe_violations` runs."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE_JS)
    ids: list[str] = await page.evaluate(
        "(tags) => axe.getRules(tags).map((r) => r.ruleId).sort()", AXE_TAGS
    )
    return ids


@dataclass
class Shown:
    """One page as the server sent it to one person, in one language."""

    person: Person
    url: str
    lang: str
    html: str


@dataclass
class Audit:
    """The portal pages the people visited, kept for the accessibility check."""

    shown: dict[str, Shown] = field(default_factory=dict)
    checked: list[tuple[str, str, str, str]] = field(default_factory=list)  # who, url, lang, size
    live: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # found on a live page

    async def check_live(self, person: Person, lang: str) -> None:
        """The page ``person`` is on, checked as it is shown now, at both sizes (the viewport
        goes back to the laptop's)."""
        for size, (width, height) in SIZES.items():
            await person.page.set_viewport_size({"width": width, "height": height})
            found = await axe_violations(person.page)
            url = SIGNIN_LINK.sub(r"\1{link}", person.page.url)  # no secret in the artifacts
            self.checked.append((person.label, url, lang, size))
            if found:
                self.live[f"{person.label} {lang} {size} {url}"] = found
        width, height = SIZES["laptop"]
        await person.page.set_viewport_size({"width": width, "height": height})

    async def keep(self, person: Person, status: int | None = None) -> None:
        """The page ``person`` is on, fetched again in both languages with their session (the
        language the person reads is fetched last, so their choice stays as it was); a 2xx
        answer, or ``status`` (a refusal's page)."""
        url = without_lang(person.page.url)
        if "/portal" not in urlsplit(url).path:
            return
        current = await person.page.evaluate("() => document.body.dataset.lang || 'zh'")
        for lang in sorted(LANGS, key=lambda item: item == current):
            answer = await person.context.request.get(with_lang(url, lang))
            if (answer.status != status) if status else not answer.ok:
                raise AssertionError(f"{person.label}: {url} ({lang}) answered {answer.status}")
            html = await answer.text()
            steady = VARYING.sub("", html)
            key = hashlib.sha256("\0".join((person.label, url, lang, steady)).encode()).hexdigest()
            self.shown.setdefault(key, Shown(person, url, lang, html))

    async def check(self, parallel: int = 3) -> dict[str, list[dict[str, Any]]]:
        """Each kept page served again to its person at each size and checked by axe-core:
        the violations by ``who lang size url``."""
        problems: dict[str, list[dict[str, Any]]] = {}
        gate = asyncio.Semaphore(parallel)

        async def one(shown: Shown) -> None:
            async with gate:
                page = await shown.person.context.new_page()
                try:
                    await page.route(_same_page(shown.url), _serve(shown.html))
                    for size, (width, height) in SIZES.items():
                        await page.set_viewport_size({"width": width, "height": height})
                        await page.goto(shown.url, wait_until="load")
                        found = await axe_violations(page)
                        self.checked.append((shown.person.label, shown.url, shown.lang, size))
                        if found:
                            key = f"{shown.person.label} {shown.lang} {size} {shown.url}"
                            problems[key] = found
                finally:
                    await page.close()

        await asyncio.gather(*(one(shown) for shown in self.shown.values()))
        return problems

    def pages(self) -> set[str]:
        return {urlsplit(s.url).path for s in self.shown.values()}


def _same_page(url: str) -> Callable[[str], bool]:
    return lambda asked: without_lang(asked) == url


def _serve(html: str) -> Any:
    async def fulfil(route: Route) -> None:
        await route.fulfill(
            status=200, headers={"content-type": "text/html; charset=utf-8"}, body=html
        )

    return fulfil


@dataclass
class Person:
    """One person of the year in a browser context of their own."""

    label: str
    name: str
    role: str
    base_url: str
    context: BrowserContext
    page: Page
    audit: Audit

    @classmethod
    async def open(
        cls, browser: Browser, base_url: str, audit: Audit, *, label: str, name: str, role: str
    ) -> Person:
        width, height = SIZES["laptop"]
        context = await browser.new_context(
            viewport={"width": width, "height": height},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            bypass_csp=True,  # axe-core is put into the page by script
        )
        context.set_default_timeout(30_000)
        page = await context.new_page()
        return cls(label, name, role, base_url, context, page, audit)

    async def sign_in(self, link: str) -> None:
        """Follow a one-time sign-in link as the person would, clicking its button if the page
        asks them to confirm; they end on a portal page with a session."""
        for lang in ("en", "zh"):  # a GET never uses the link: it is checked in both languages
            answer = await self.page.goto(with_lang(link, lang))
            assert answer is not None and answer.status < 400, (self.label, link, answer)
            await self.audit.check_live(self, lang)
        confirm = self.page.locator("form[action^='/portal/signin'] button[type=submit]")
        if "/portal/signin" in self.page.url and await confirm.count():
            async with self.page.expect_navigation():
                await confirm.first.click()
        assert "/portal/signin" not in self.page.url, await self.main_text()
        await self.audit.keep(self)

    async def go(self, path: str, *, keep: bool = True) -> Page:
        """Open a portal page; it must answer 2xx. Kept for the accessibility check."""
        answer = await self.page.goto(self.base_url + path)
        assert answer is not None, path
        assert answer.ok, f"{self.label}: {path} answered {answer.status}: {await self.main_text()}"
        assert "/portal/signin" not in self.page.url, f"{self.label} was sent to sign in ({path})"
        if keep:
            await self.audit.keep(self)
        return self.page

    async def refused(self, path: str, status: int) -> Page:
        """Open a page the person may not see: it answers ``status`` with the refusal in words
        (kept for the accessibility check too)."""
        answer = await self.page.goto(self.base_url + path)
        assert answer is not None and answer.status == status, (path, answer and answer.status)
        await self.audit.keep(self, status)
        return self.page

    async def main_text(self) -> str:
        try:
            return await self.page.locator("main").inner_text(timeout=2_000)
        except PlaywrightError:
            return await self.page.content()

    async def submit(self, form: str, *, timeout_s: float = 30) -> str:
        """Submit the form ``form`` (a selector) as a click on its submit button does, and wait
        for portal.js's answer: the next page (returns "") or the problem it shows in words
        (returned). A form whose page moves on is kept for the accessibility check."""
        page = self.page
        await page.evaluate("() => { window.__portalTestMark = 1; }")
        await page.locator(form).locator("[type=submit]").first.click()
        shown = await _settle(page, form, timeout_s)
        if not shown:
            await page.wait_for_load_state("load")
            await self.audit.keep(self)
        return shown

    async def until_shown(
        self, path: str, selector: str, *, limit_s: float = 120, every_s: float = 1.0
    ) -> Page:
        """Reload ``path`` until ``selector`` is on it (the year moves in real time)."""

        async def count() -> int:
            await self.go(path, keep=False)
            return await self.page.locator(selector).count()

        try:
            await until(
                count, what=f"{self.label}: {selector} on {path}", limit_s=limit_s, every=every_s
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}:\n" + (await self.main_text())[:3000]) from None
        await self.audit.keep(self)
        return self.page


async def _settle(page: Page, form: str, timeout_s: float) -> str:
    probe = """(sel) => {
      if (!window.__portalTestMark) return '__moved__';
      const f = document.querySelector(sel);
      if (!f) return '';
      const parts = [...f.querySelectorAll('[data-form-error], [data-error-for]')]
        .map((e) => e.textContent.trim()).filter(Boolean);
      return parts.join(' | ');
    }"""
    said = await until(
        lambda: page.evaluate(probe, form),
        what=f"an answer to {form} on {page.url}",
        limit_s=timeout_s,
        every=0.1,
        ignoring=PlaywrightError,  # the page is navigating: its context went away
    )
    return "" if said == "__moved__" else str(said)


async def shoot(person: Person, name: str, *, check: bool = True) -> list[Path]:
    """The person's current page at both sizes (full page), saved as artifacts, each size also
    checked by axe-core as it is shown (in :attr:`Audit.live`; ``check=False`` while a window
    of seconds runs: the page is kept and checked after the year anyway); the viewport goes
    back to the laptop's."""
    saved = []
    for size, (width, height) in SIZES.items():
        await person.page.set_viewport_size({"width": width, "height": height})
        path = artifact(f"portal-{name}-{width}x{height}.png")
        await person.page.screenshot(path=str(path), full_page=True)
        saved.append(path)
        if not check:
            continue
        found = await axe_violations(person.page)
        lang = await person.page.evaluate("() => document.body.dataset.lang || 'zh'")
        person.audit.checked.append((person.label, person.page.url, lang, size))
        if found:
            person.audit.live[f"{person.label} {lang} {size} {person.page.url}"] = found
        overflow = await person.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at {width}x{height}"
    width, height = SIZES["laptop"]
    await person.page.set_viewport_size({"width": width, "height": height})
    return saved
