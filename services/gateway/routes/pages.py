"""The pages people open in a browser: the live dashboard, and the public 公示 results page.

The dashboard page is a static shell; everything it shows comes from the API with the user's
token. The results page is public, as a 公示 is, and rendered here in Chinese or English.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.gateway.auth import rpc
from services.gateway.deps import DepsDep
from services.gateway.notice_pdf import GRADE_ZH
from services.gateway.routes.documents import published_results
from services.gateway.routes.params import Program, Year
from shared.contracts.registry import GetProgram, PinnedRules

router = APIRouter(include_in_schema=False)
_DASHBOARD = files("services.gateway").joinpath("pages/dashboard.html").read_text("utf-8")
GRADE_EN = {"excellent": "Excellent", "pass": "Pass", "fail": "Fail"}

_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "{year}年度{name}评估结果公示",
        "intro": "现将{year}年度评估结果予以公示。公示期内如有异议，请以书面形式向{issuer}反映。",
        "columns": ["序号", "基地名称", "地区", "领域", "总分", "等级"],
        "downloads": "下载",
        "switch": "English",
    },
    "en": {
        "title": "{name}: published results for {year} (公示)",
        "intro": "The results of {year} are published for public comment. Objections may be made "
        "in writing to {issuer} during the publication period.",
        "columns": ["No.", "Base", "Region", "Domain", "Total", "Grade"],
        "downloads": "Download",
        "switch": "中文",
    },
}


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page() -> HTMLResponse:
    return HTMLResponse(_DASHBOARD, headers={"Cache-Control": "no-cache"})


@router.get("/results/{program}/{year}", response_class=HTMLResponse)
async def results_page(
    program: Program, year: Year, deps: DepsDep, lang: Literal["zh", "en"] = "zh"
) -> HTMLResponse:
    rows = await published_results(deps, program, year)
    pinned = await rpc(
        deps.rpc.call("registry", "rules.current", GetProgram(program=program), PinnedRules)
    )
    text = _TEXT[lang]
    name = pinned.rules.name if lang == "zh" else (pinned.rules.name_en or pinned.rules.name)
    fill = {"year": year, "name": name, "issuer": pinned.rules.issuer}
    grades = GRADE_ZH if lang == "zh" else GRADE_EN
    body = "".join(
        "<tr data-base='{}'><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td data-grade='{}'>{}</td></tr>".format(
            escape(str(r["base"])),
            n,
            escape(str(r.get("name") or r["base"])),
            escape(str(r.get("region") or "")),
            escape(str(r.get("domain") or "")),
            "" if r.get("total") is None else f"{float(r['total']):.1f}",
            escape(str(r.get("grade") or "")),
            escape(grades.get(str(r.get("grade")), str(r.get("grade") or "—"))),
        )
        for n, r in enumerate(rows, 1)
    )
    api = f"/v1/programs/{program}/years/{year}/results"
    links = " · ".join(
        f"<a href='{api}?format={f}'>{f.upper()}</a>" for f in ("csv", "xlsx", "pdf")
    )
    other = "en" if lang == "zh" else "zh"
    title = escape(text["title"].format(**fill))
    head = "".join(f"<th>{escape(c)}</th>" for c in text["columns"])
    page = f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:15px/1.6 "Noto Sans CJK SC","Microsoft YaHei",system-ui,sans-serif;
margin:2em auto;max-width:60em;padding:0 1em;color:#1d2733}}h1{{font-size:1.4em;text-align:center}}
table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #ccd;padding:.3em .6em}}
th{{background:#f0f2f5}}nav{{text-align:right}}</style></head><body>
<nav><a id="lang" href="?lang={other}">{text["switch"]}</a></nav>
<h1>{title}</h1><p>{escape(text["intro"].format(**fill))}</p>
<table id="results"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<p id="downloads">{text["downloads"]}: {links}</p>
<p style="text-align:right">{escape(pinned.rules.issuer)}</p></body></html>"""
    return HTMLResponse(page)
