"""Delivery: an outbox of messages per insight × channel × recipient, and the channels."""

from salesradar.delivery.channels import (
    Channel,
    DeliveryError,
    EmailChannel,
    HubSpotTaskChannel,
    SlackChannel,
    TeamsChannel,
    WebhookChannel,
    sign,
    verify,
)
from salesradar.delivery.message import Message, Person, render_digest, render_push
from salesradar.delivery.outbox import (
    DeliveryReport,
    DeliverySettings,
    backoff,
    deliver,
    requeue_unknown,
)

__all__ = [
    "Channel",
    "DeliveryError",
    "DeliveryReport",
    "DeliverySettings",
    "EmailChannel",
    "HubSpotTaskChannel",
    "Message",
    "Person",
    "SlackChannel",
    "TeamsChannel",
    "WebhookChannel",
    "backoff",
    "deliver",
    "render_digest",
    "render_push",
    "requeue_unknown",
    "sign",
    "verify",
]
