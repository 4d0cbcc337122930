"""Rendering a portal page: the language, the signed-in person, the CSRF token and the texts."""

from __future__ import annotations

import json
from functools import partial
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.gateway.identity.tokens import Principal
from services.gateway.portal.problem_words import problem_words
from services.gateway.portal.words import LANGS, Lang, say

LANG_COOKIE = "nvc_lang"
TEMPLATES = str(files("services.gateway.portal").joinpath("templates"))

ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# The menu each kind of person sees: (text key, path). Pages a role may not use are not listed;
# the routes refuse them anyway.
NAV: dict[str, list[tuple[str, str]]] = {
    "province_admin": [("nav.home", "/portal"), ("nav.dashboard", "/dashboard")],
    "city_officer": [("nav.home", "/portal")],
    "base_user": [("nav.home", "/portal")],
    "expert": [("nav.home", "/portal")],
    "operator": [("nav.home", "/portal"), ("nav.dashboard", "/dashboard")],
    "viewer": [("nav.home", "/portal"), ("nav.dashboard", "/dashboard")],
}
COMMON_NAV = [("nav.inbox", "/portal/inbox"), ("nav.rules", "/portal/rules"),
              ("nav.help", "/portal/help")]  # fmt: skip


def lang_of(request: Request) -> Lang:
    """``?lang=`` first (a link someone shared), then the switch's cookie, then Chinese."""
    for asked in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if asked in LANGS:
            return asked  # type: ignore[return-value]
    return "zh"


def page(
    request: Request,
    template: str,
    *,
    user: Principal | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered for ``user`` in the request's language."""
    lang = lang_of(request)
    nav = (NAV.get(user.role, []) + COMMON_NAV) if user else []
    html = ENV.get_template(template).render(
        request=request,
        lang=lang,
        t=partial(say, lang=lang),
        user=user,
        nav=nav,
        path=request.url.path,
        csrf=getattr(request.state, "csrf", ""),
        # Inside <script>: "</" may not appear as such in it.
        problem_words_json=json.dumps(problem_words(lang), ensure_ascii=False).replace(
            "</", "<\\/"
        ),
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    if request.query_params.get("lang") in LANGS:  # the switch is a link; the choice is kept
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict")
    return response
