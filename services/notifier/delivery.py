"""The channels a notice travels: HMAC-signed webhooks, and e-mail over SMTP.

One call sends one notice to one recipient, once; retries, timeouts and bookkeeping belong to the
sender (``services/notifier/sender.py``). Every request carries the notice's stable id, so a
receiver that sees it twice (a send whose success was not recorded) can drop the copy.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import smtplib
import time
from email.message import EmailMessage

import httpx

SIGNATURE_HEADER = "X-Navcycle-Signature"
TIMESTAMP_HEADER = "X-Navcycle-Timestamp"
NOTICE_ID_HEADER = "X-Navcycle-Notice-Id"
EVENT_ID_HEADER = "X-Navcycle-Event-Id"


class DeliveryError(Exception):
    """The recipient did not take the notice; the message is kept as the delivery's last error."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``<timestamp>.<body>``: a receiver recomputes it to trust the call."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def message_id(notice_key: str) -> str:
    """The e-mail ``Message-ID`` of a notice: the same in every copy, so receivers merge them."""
    return f"<{notice_key}@navcycle>"


class WebhookChannel:
    """POSTs a notice's JSON body to one URL; any 2xx is taken, anything else is an error."""

    def __init__(self, secret: str, client: httpx.AsyncClient | None = None) -> None:
        self._secret = secret
        self._client = client or httpx.AsyncClient()

    async def send(self, url: str, body: bytes, *, notice_key: str, event_id: str) -> None:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            TIMESTAMP_HEADER: timestamp,
            NOTICE_ID_HEADER: notice_key,
            EVENT_ID_HEADER: event_id,
        }
        try:
            resp = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= resp.status_code < 300:
            raise DeliveryError(f"HTTP {resp.status_code}")

    async def aclose(self) -> None:
        await self._client.aclose()


class EmailChannel:
    """Sends a notice as one e-mail to one address, in a thread (smtplib blocks)."""

    def __init__(self, host: str, port: int, sender: str, timeout_s: float = 10.0) -> None:
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout_s

    async def send(self, to: str, subject: str, body: str, *, notice_key: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self._sender, to, subject
        message["Message-ID"] = message_id(notice_key)
        message[NOTICE_ID_HEADER] = notice_key
        message.set_content(body)
        try:
            await asyncio.to_thread(self._send_sync, message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc

    def _send_sync(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            smtp.send_message(message)
