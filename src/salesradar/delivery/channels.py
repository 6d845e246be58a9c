"""Channels: each a small class whose ``send(message)`` returns or raises :class:`DeliveryError`.

``idempotent`` says whether the receiver can recognise a repeated message by its key: the generic
webhook sends ``Idempotency-Key`` and email a ``Message-ID``, both derived from the outbox row, so
resending after an unclear failure is safe there. Slack, Teams and HubSpot tasks have no such key,
so an unclear failure on them is never retried automatically
(see :mod:`salesradar.delivery.outbox`).

HTTP goes through ``httpx`` with a timeout on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, ClassVar, Literal, Protocol

import httpx

from salesradar.delivery.message import Message
from salesradar.errors import SalesradarError

Audience = Literal["personal", "owner"]
DEFAULT_TIMEOUT = 10.0  # seconds, per HTTP request or SMTP socket operation


class DeliveryError(SalesradarError):
    """A send failed.

    ``ambiguous``: the receiver may have got the message anyway (a timeout after the request was
    sent). ``permanent``: retrying cannot help (a 4xx answer, a refused recipient).
    """

    def __init__(self, message: str, *, ambiguous: bool = False, permanent: bool = False) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous
        self.permanent = permanent


class Channel(Protocol):
    """What the delivery loop needs from a channel."""

    name: str
    idempotent: ClassVar[bool]
    #: "personal": one message per recipient (owner rep and manager);
    #: "owner": one message per insight, to its owner (a shared chat channel, a CRM task)
    audience: ClassVar[Audience]

    def send(self, message: Message) -> None: ...


class EmailChannel:
    """Email over SMTP (text + HTML multipart), ``Message-ID`` derived from the outbox row."""

    idempotent: ClassVar[bool] = True
    audience: ClassVar[Audience] = "personal"

    def __init__(
        self, host: str, port: int, sender: str, *, username: str | None = None,
        password: str | None = None, starttls: bool = False, timeout: float = DEFAULT_TIMEOUT,
        name: str = "email",
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.timeout, self.name = timeout, name

    def build(self, message: Message) -> EmailMessage:
        """The MIME message: text/plain and text/html alternatives, UTF-8."""
        if not message.recipient.email:
            raise DeliveryError(f"{message.recipient.id} has no email address", permanent=True)
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient.email
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        domain = self.sender.rpartition("@")[2] or "salesradar.invalid"
        mail["Message-ID"] = f"<{message.key}@{domain}>"
        mail["Content-Language"] = message.lang
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        return mail

    def send(self, message: Message) -> None:
        mail = self.build(message)
        connected = False
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                connected = True
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP refused the recipient: {exc}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryError(f"SMTP error {exc.smtp_code}: {exc}", permanent=permanent) from exc
        except (OSError, smtplib.SMTPException) as exc:
            # before the connection nothing was sent; after it, the server may have the mail
            raise DeliveryError(f"SMTP failed: {exc!r}", ambiguous=connected) from exc


class _HttpChannel:
    """POST JSON with a timeout; map transport errors to clear/ambiguous failures."""

    idempotent: ClassVar[bool] = False
    audience: ClassVar[Audience] = "owner"

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT, name: str) -> None:
        self.url, self.timeout, self.name = url, timeout, name

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        try:
            with httpx.Client(timeout=self.timeout) as client:
                response = client.post(
                    url, content=body, headers={"Content-Type": "application/json", **headers}
                )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise DeliveryError(f"{self.name}: cannot connect: {exc!r}") from exc
        except httpx.HTTPError as exc:  # read/write timeouts, dropped connections
            raise DeliveryError(f"{self.name}: {exc!r}", ambiguous=True) from exc
        if response.status_code >= 400:
            permanent = response.status_code < 500 and response.status_code not in (408, 429)
            raise DeliveryError(
                f"{self.name}: HTTP {response.status_code}: {response.text[:300]}",
                permanent=permanent,
            )
        return response

    def _post_json(self, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._post(self.url, json.dumps(payload, ensure_ascii=False).encode(), headers or {})


class SlackChannel(_HttpChannel):
    """A Slack incoming webhook: ``{"text": ..., "blocks": [...]}``."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT, name: str = "slack") -> None:
        super().__init__(url, timeout=timeout, name=name)

    @staticmethod
    def payload(message: Message) -> dict[str, Any]:
        return {
            "text": f"{message.subject}\n{message.text}",  # the notification and fallback text
            "blocks": [
                {"type": "header",
                 "text": {"type": "plain_text", "text": message.subject[:150]}},
                {"type": "section",
                 "text": {"type": "mrkdwn", "text": message.text[:3000]}},
            ],
        }

    def send(self, message: Message) -> None:
        self._post_json(self.payload(message))


class TeamsChannel(_HttpChannel):
    """A Microsoft Teams incoming webhook (Workflows): a message with one Adaptive Card."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT, name: str = "teams") -> None:
        super().__init__(url, timeout=timeout, name=name)

    @staticmethod
    def payload(message: Message) -> dict[str, Any]:
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [
                {"type": "TextBlock", "text": message.subject, "weight": "Bolder",
                 "size": "Medium", "wrap": True},
                {"type": "TextBlock", "text": message.text, "wrap": True},
            ],
        }
        if message.lang == "he":
            card["rtl"] = True
        return {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                             "contentUrl": None, "content": card}],
        }

    def send(self, message: Message) -> None:
        self._post_json(self.payload(message))


SIGNATURE_HEADER = "X-Salesradar-Signature"
TIMESTAMP_HEADER = "X-Salesradar-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + raw body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, body: bytes, timestamp: str, signature: str, *, now: float | None = None,
    tolerance: float = 300.0,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent (no replay)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel(_HttpChannel):
    """A generic JSON webhook, signed with HMAC-SHA256, with an ``Idempotency-Key`` header.

    The signature covers the timestamp and the raw body (``<timestamp>.<body>``), so a captured
    request cannot be replayed later with a fresh timestamp; receivers use :func:`verify` and
    drop a repeated ``Idempotency-Key``.
    """

    idempotent: ClassVar[bool] = True
    audience: ClassVar[Audience] = "personal"

    def __init__(
        self, url: str, secret: str, *, timeout: float = DEFAULT_TIMEOUT, name: str = "webhook"
    ) -> None:
        super().__init__(url, timeout=timeout, name=name)
        self.secret = secret

    def send(self, message: Message) -> None:
        body = json.dumps(message.payload(), ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(int(time.time()))
        self._post(self.url, body, {
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            "Idempotency-Key": message.key,
        })


class HubSpotTaskChannel(_HttpChannel):
    """A HubSpot task per message: ``POST {base_url}/crm/v3/objects/tasks`` with a Bearer token."""

    def __init__(
        self, token: str, *, base_url: str = "https://api.hubapi.com",
        timeout: float = DEFAULT_TIMEOUT, name: str = "hubspot",
    ) -> None:
        super().__init__(base_url.rstrip("/") + "/crm/v3/objects/tasks", timeout=timeout,
                         name=name)
        self.token = token

    @staticmethod
    def payload(message: Message, due_ms: int) -> dict[str, Any]:
        level = message.priority
        priority = "HIGH" if level >= 70 else "MEDIUM" if level >= 40 else "LOW"
        properties: dict[str, Any] = {
            "hs_timestamp": str(due_ms),
            "hs_task_subject": message.subject[:250],
            "hs_task_body": message.text,
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": priority,
            "hs_task_type": "TODO",
        }
        if message.recipient.hubspot_owner_id:
            properties["hubspot_owner_id"] = message.recipient.hubspot_owner_id
        return {"properties": properties}

    def send(self, message: Message) -> None:
        self._post_json(
            self.payload(message, int(time.time() * 1000)),
            {"Authorization": f"Bearer {self.token}"},
        )
