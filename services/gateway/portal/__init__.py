"""The work portal: the pages where every person of the cycle does their part in a browser.

Pages are rendered on the server (Jinja2) in Chinese by default, with an English switch. Every
change a page makes goes through the same ``/v1`` API route a machine would call (the page's
script posts the form as JSON with the session cookie and the CSRF token), so the portal adds no
way around the access policy; the pages themselves read through the same checks.

- :mod:`.words`: the portal's texts in both languages, registered by the module that shows them;
- :mod:`.render`: the template environment and :func:`.render.page`;
- :mod:`.session`: who is signed in (:data:`.session.PortalUser`), or a redirect to sign in;
- one module of routes per kind of person (``*_pages.py``), assembled by :func:`install`.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.gateway.portal import (
    base_pages,
    common_pages,
    expert_pages,
    officer_pages,
    registration_pages,
    session,
    signin_pages,
)

STATIC = files("services.gateway.portal").joinpath("static")


def install(app: FastAPI) -> None:
    session.install(app)
    app.mount("/portal/static", StaticFiles(directory=str(STATIC)), name="portal-static")
    for module in (
        signin_pages,
        common_pages,
        base_pages,
        officer_pages,
        expert_pages,
        registration_pages,
    ):
        app.include_router(module.router)
