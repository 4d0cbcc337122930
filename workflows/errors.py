"""Refusing a workflow's input: a non-retryable ApplicationError whose type is a stable code
from ``shared.domain.errors`` (the gateway turns the code into its HTTP status)."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


def rejected(code: str, message: str, **details: object) -> ApplicationError:
    return ApplicationError(message, details or None, type=code, non_retryable=True)
