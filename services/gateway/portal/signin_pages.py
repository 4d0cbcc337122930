"""Signing in with a one-time link, the session cookie, signing out and the language switch."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
