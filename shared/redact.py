"""Secrets never reach a log line: a structlog processor that masks them as ``***``.

It masks, in every value of a log event (the message of a standard-library record included):
passwords in URLs (``nats://user:***@host``), query parameters that carry credentials
(``?access_token=***``, as DingTalk and WeCom webhook URLs do), bearer tokens (``nvc_***``), values
under keys named like a secret, ``SecretStr`` values, and settings objects (rendered field by
field with the same rules).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

MASK = "***"
_SECRET_KEY = re.compile(
    r"token|secret|password|passwd|pwd|authorization|credential|api_?key|signature|private", re.I
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)", re.I)
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&](?:access_?token|token|secret|key|password|sign|signature|sig)=)[^&\s\"']+",
    re.I,
)
_BEARER = re.compile(r"(?P<head>\bnvc_)[A-Za-z0-9_-]{8,}")


def redact_text(text: str) -> str:
    text = _URL_PASSWORD.sub(rf"\g<head>{MASK}", text)
    text = _QUERY_SECRET.sub(rf"\g<head>{MASK}", text)
    return _BEARER.sub(rf"\g<head>{MASK}", text)


def redact(value: Any, key: str = "") -> Any:
    """``value`` with every secret in it masked; ``key`` is the name it is logged under."""
    if isinstance(value, SecretStr | SecretBytes):
        return MASK
    if key and _SECRET_KEY.search(key) and value not in (None, "", False):
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, BaseModel):
        return {k: redact(getattr(value, k), k) for k in type(value).model_fields}
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    if isinstance(value, BaseException):
        return redact_text(f"{type(value).__name__}: {value}")
    return value


def redact_event(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """The structlog processor; runs last before rendering, after exceptions are formatted."""
    return {k: redact(v, "" if k in ("event", "exception") else k) for k, v in event_dict.items()}
