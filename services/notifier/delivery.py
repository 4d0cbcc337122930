"""Delivering notices: HMAC-signed webhooks with retries, and e-mail over SMTP."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

SIGNATURE_HEADER = "X-Navcycle-Signature"
TIMESTAMP_HEADER = "X-Navcycle-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``<timestamp>.<body>``: a receiver recomputes it to trust the call."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True)
class Failure:
    url: str
    attempts: int
    error: str


class WebhookSender:
    def __init__(
        self, urls: list[str], secret: str, attempts: int = 4, backoff_s: float = 0.5
    ) -> None:
        self._urls, self._secret, self._attempts, self._backoff = urls, secret, attempts, backoff_s

    async def send(self, body: bytes, event_id: str) -> list[Failure]:
        failures = []
        async with httpx.AsyncClient(timeout=10) as client:
            for url in self._urls:
                error = await self._send_one(client, url, body, event_id)
                if error is not None:
                    failures.append(Failure(url, self._attempts, error))
        return failures

    async def _send_one(
        self, client: httpx.AsyncClient, url: str, body: bytes, event_id: str
    ) -> str | None:
        error = ""
        for attempt in range(1, self._attempts + 1):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self._secret, timestamp, body),
                TIMESTAMP_HEADER: timestamp,
                "X-Navcycle-Event-Id": event_id,
            }
            try:
                resp = await client.post(url, content=body, headers=headers)
                if 200 <= resp.status_code < 300:
                    return None
                error = f"HTTP {resp.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if attempt < self._attempts:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        return error


class EmailSender:
    def __init__(self, host: str, port: int, sender: str, recipients: list[str]) -> None:
        self._host, self._port, self._sender, self._recipients = host, port, sender, recipients

    async def send(self, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            self._sender,
            ", ".join(self._recipients),
            subject,
        )
        message.set_content(body)
        await asyncio.to_thread(self._send_sync, message)

    def _send_sync(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=10) as smtp:
            smtp.send_message(message)
