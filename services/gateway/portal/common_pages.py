"""Pages for everyone signed in: the home page by role, the inbox, the rules, the help page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
