"""The pages people open in a browser: the live dashboard, and the public 公示 results page.

The dashboard page is a static shell; everything it shows comes from the API with the user's
token. The results page is public, as a 公示 is, and rendered here in Chinese or English.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.gateway.deps import DepsDep
from services.gateway.public_rate import PublicRate
from services.gateway.published import MAX_NOTICES, list_notices, load_notice
from services.gateway.routes.params import Program, Year
from shared.contracts.results import (
    GRADE_EN,
    GRADE_ZH,
    OBJECTION_STATUS_EN,
    OBJECTION_STATUS_ZH,
    ResultEntry,
    ResultsNotice,
)
from shared.domain.wording import (
    PROVISIONAL_EN,
    PROVISIONAL_ZH,
    date_en,
    date_zh,
    end_en,
    end_zh,
    period_en,
    period_zh,
    zone,
)

router = APIRouter(include_in_schema=False)
_DASHBOARD = files("services.gateway").joinpath("pages/dashboard.html").read_text("utf-8")

_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "{year}年度{name}评估结果{what}（第{number}号）",
        "what": {"original": "公示", "supplementary": "补充公示"},
        "intro": "现将{year}年度评估结果予以公示。公示期内如有异议，请以书面形式向{issuer}提出。",
        "intro_final": "{year}年度评估结果已确定，现将各基地的处理结果予以补充公示，不再受理异议。",
        "columns": ["序号", "基地名称", "地区", "领域", "总分", "等级", "处理结果", "理由"],
        "changes": "本次补充公示变更内容",
        "objections": "异议及处理情况",
        "no_objections": "截至本公示发布，未收到异议。",
        "received": "{date}收到异议，经审查，异议{status}",
        "notices": "历次公示",
        "corrected": "（更正）",
        "downloads": "下载",
        "switch": "English",
    },
    "en": {
        "title": "{name}: {year} results, {what} no. {number} (公示)",
        "what": {"original": "notice", "supplementary": "supplementary notice"},
        "intro": "The results of {year} are published for public comment. Objections may be made "
        "in writing to {issuer} during the publication period.",
        "intro_final": "The results of {year} are final; this supplementary notice publishes each"
        " base's outcome and takes no objections.",
        "columns": ["No.", "Base", "Region", "Domain", "Total", "Grade", "Outcome", "Reason"],
        "changes": "What this supplementary notice changes",
        "objections": "Objections and their outcomes",
        "no_objections": "No objection had been received when this notice was published.",
        "received": "objection received {date}: {status}",
        "notices": "All notices",
        "corrected": " (corrected)",
        "downloads": "Download",
        "switch": "中文",
    },
}


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page() -> HTMLResponse:
    return HTMLResponse(_DASHBOARD, headers={"Cache-Control": "no-cache"})


@router.get("/results/{program}/{year}", response_class=HTMLResponse, dependencies=[PublicRate])
async def results_page(
    program: Program,
    year: Year,
    deps: DepsDep,
    lang: Literal["zh", "en"] = "zh",
    notice: int | None = Query(None, ge=1, le=MAX_NOTICES),
) -> HTMLResponse:
    doc = await load_notice(deps, program, year, notice)
    listed = await list_notices(deps, program, year)
    return HTMLResponse(render_results(doc, [n.number for n in listed.notices], lang))


def _period(doc: ResultsNotice, lang: str) -> str:
    if not doc.publication_period:
        return ""
    tz = zone(doc.utc_offset)
    has_end = doc.publication_until is not None or doc.publication_last_day is not None
    if lang == "zh":
        text = f"公示期为{period_zh(doc.publication_period)}"
        if has_end:
            text += f"，至{end_zh(doc.publication_until, doc.publication_last_day, tz)}止"
        return text + (PROVISIONAL_ZH if doc.provisional else "") + "。"
    text = f"The publication period is {period_en(doc.publication_period)}"
    if has_end:
        text += f", until {end_en(doc.publication_until, doc.publication_last_day, tz)}"
    return text + (f" {PROVISIONAL_EN}" if doc.provisional else "") + "."


def _row(n: int, e: ResultEntry, lang: str, text: dict[str, Any]) -> str:
    zh = lang == "zh"
    grade = (GRADE_ZH if zh else GRADE_EN).get(e.grade or "", "—")
    reason = " ".join(
        x for x in ((e.reason_zh, e.rank_reason_zh) if zh else (e.reason_en, e.rank_reason_en)) if x
    )
    name = escape(e.name or e.base) + (escape(text["corrected"]) if e.corrected else "")
    return (
        f"<tr data-base='{escape(e.base)}'><td>{n}</td><td>{name}</td><td>{escape(e.region)}</td>"
        f"<td>{escape(e.domain)}</td><td>{'' if e.total is None else f'{e.total:.1f}'}</td>"
        f"<td data-grade='{escape(e.grade or '')}'>{escape(grade)}</td>"
        f"<td data-outcome='{e.outcome}'>{escape(e.outcome_zh if zh else e.outcome_en)}</td>"
        f"<td>{escape(reason or '—')}</td></tr>"
    )


def _objections(doc: ResultsNotice, lang: str, text: dict[str, Any]) -> str:
    tz = zone(doc.utc_offset)
    items = []
    for e in doc.entries:
        for o in e.objections:
            status = (OBJECTION_STATUS_ZH if lang == "zh" else OBJECTION_STATUS_EN)[o.status]
            when = (
                (date_zh if lang == "zh" else date_en)(o.received_at, tz) if o.received_at else ""
            )
            line = text["received"].format(date=when, status=status)
            reason = f"（{o.decision_reason}）" if o.decision_reason else ""
            items.append(
                f"<li data-objection='{escape(o.objection_id)}' data-status='{o.status}'>"
                f"{escape(e.name or e.base)}: {escape(line + reason)}</li>"
            )
    body = f"<ul>{''.join(items)}</ul>" if items else f"<p>{escape(text['no_objections'])}</p>"
    return f"<h2>{escape(text['objections'])}</h2><div id='objections'>{body}</div>"


def render_results(doc: ResultsNotice, numbers: list[int], lang: Literal["zh", "en"]) -> str:
    """The public 公示 page of one notice, in Chinese or English."""
    text = _TEXT[lang]
    name = doc.program_name if lang == "zh" else (doc.program_name_en or doc.program_name)
    fill = {
        "year": doc.year,
        "name": name or doc.program,
        "issuer": doc.issuer,
        "what": text["what"][doc.kind],
        "number": doc.number,
    }
    body = "".join(_row(n, e, lang, text) for n, e in enumerate(doc.entries, 1))
    base_url = f"/results/{doc.program}/{doc.year}"
    api = f"/v1/programs/{doc.program}/years/{doc.year}/results"
    links = " · ".join(
        f"<a href='{api}?format={f}&amp;notice={doc.number}'>{f.upper()}</a>"
        for f in ("csv", "xlsx", "pdf")
    )
    others = " · ".join(
        f"<a href='{base_url}?lang={lang}&amp;notice={n}'>{n}</a>"
        if n != doc.number
        else f"<b>{n}</b>"
        for n in numbers
    )
    changes = (doc.changes_zh if lang == "zh" else doc.changes_en) or []
    changes_html = (
        f"<h2>{escape(text['changes'])}</h2><ol id='changes'>"
        + "".join(f"<li>{escape(c)}</li>" for c in changes)
        + "</ol>"
        if changes
        else ""
    )
    population = doc.population_zh if lang == "zh" else doc.population_en
    other = "en" if lang == "zh" else "zh"
    title = escape(text["title"].format(**fill))
    intro = "intro" if doc.publication_period else "intro_final"
    head = "".join(f"<th>{escape(c)}</th>" for c in text["columns"])
    published = (
        (date_zh if lang == "zh" else date_en)(doc.published_at, zone(doc.utc_offset))
        if doc.published_at
        else ""
    )
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:15px/1.6 "Noto Sans CJK SC","Microsoft YaHei",system-ui,sans-serif;
margin:2em auto;max-width:68em;padding:0 1em;color:#1d2733}}h1{{font-size:1.4em;text-align:center}}
h2{{font-size:1.1em}}table{{border-collapse:collapse;width:100%}}nav{{text-align:right}}
th,td{{border:1px solid #ccd;padding:.3em .6em}}th{{background:#f0f2f5}}</style>
</head><body>
<nav><a id="lang" href="?lang={other}&amp;notice={doc.number}">{text["switch"]}</a></nav>
<h1>{title}</h1><p>{escape(text[intro].format(**fill))}</p>
<p id="period">{escape(_period(doc, lang))}</p>
{f"<p id='population'>{escape(population)}</p>" if population else ""}{changes_html}
<table id="results"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
{_objections(doc, lang, text)}
<p id="notices">{escape(text["notices"])}: {others}</p>
<p id="downloads">{text["downloads"]}: {links}</p>
<p style="text-align:right">{escape(doc.issuer)}<br>{escape(published)}</p></body></html>"""
