"""Build channels and the recipient directory from the environment and the ``reps`` table.

What the CLI calls so that ``salesradar deliver`` stays a thin layer::

    channels = channels_from_env()                    # SALESRADAR_SMTP_HOST, ..._SLACK_WEBHOOK_URL
    people = people_from_reps(reps_rows, default_lang="he")
    report = deliver(store, channels, datetime.now(UTC), directory=people)

Environment variables (a channel is on when its first variable is set):

=================================  ==========================================================
``SALESRADAR_SMTP_HOST``            SMTP server; with ``_PORT`` (587), ``_FROM`` (required),
                                    ``_USER``, ``_PASSWORD``, ``_STARTTLS`` (1 on port 587)
``SALESRADAR_SLACK_WEBHOOK_URL``    Slack incoming webhook
``SALESRADAR_TEAMS_WEBHOOK_URL``    Teams (Workflows) incoming webhook
``SALESRADAR_WEBHOOK_URL``          generic webhook; ``SALESRADAR_WEBHOOK_SECRET`` required
``SALESRADAR_HUBSPOT_TOKEN``        HubSpot private-app token; ``_BASE_URL`` optional
``SALESRADAR_DELIVERY_TIMEOUT``     seconds per request (default 10)
=================================  ==========================================================
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from salesradar.delivery.channels import (
    DEFAULT_TIMEOUT,
    Channel,
    EmailChannel,
    HubSpotTaskChannel,
    SlackChannel,
    TeamsChannel,
    WebhookChannel,
)
from salesradar.delivery.message import Person
from salesradar.errors import UserInputError
from salesradar.lang import Lang


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise UserInputError(f"{name} must be a number, got {raw!r}") from None


def channels_from_env(env: Mapping[str, str] | None = None) -> list[Channel]:
    """Every channel configured in ``env`` (default: ``os.environ``); may be empty."""
    env = os.environ if env is None else env
    timeout = _number(env, "SALESRADAR_DELIVERY_TIMEOUT", DEFAULT_TIMEOUT)
    channels: list[Channel] = []
    if env.get("SALESRADAR_SMTP_HOST"):
        sender = env.get("SALESRADAR_SMTP_FROM")
        if not sender:
            raise UserInputError("SALESRADAR_SMTP_HOST is set: set SALESRADAR_SMTP_FROM too")
        port = int(_number(env, "SALESRADAR_SMTP_PORT", 587))
        starttls = env.get("SALESRADAR_SMTP_STARTTLS", "1" if port == 587 else "0") == "1"
        channels.append(EmailChannel(
            env["SALESRADAR_SMTP_HOST"], port, sender, username=env.get("SALESRADAR_SMTP_USER"),
            password=env.get("SALESRADAR_SMTP_PASSWORD"), starttls=starttls, timeout=timeout,
        ))
    if env.get("SALESRADAR_SLACK_WEBHOOK_URL"):
        channels.append(SlackChannel(env["SALESRADAR_SLACK_WEBHOOK_URL"], timeout=timeout))
    if env.get("SALESRADAR_TEAMS_WEBHOOK_URL"):
        channels.append(TeamsChannel(env["SALESRADAR_TEAMS_WEBHOOK_URL"], timeout=timeout))
    if env.get("SALESRADAR_WEBHOOK_URL"):
        secret = env.get("SALESRADAR_WEBHOOK_SECRET")
        if not secret:
            raise UserInputError(
                "SALESRADAR_WEBHOOK_URL is set: set SALESRADAR_WEBHOOK_SECRET (the HMAC key) too"
            )
        channels.append(WebhookChannel(env["SALESRADAR_WEBHOOK_URL"], secret, timeout=timeout))
    if env.get("SALESRADAR_HUBSPOT_TOKEN"):
        channels.append(HubSpotTaskChannel(
            env["SALESRADAR_HUBSPOT_TOKEN"],
            base_url=env.get("SALESRADAR_HUBSPOT_BASE_URL") or "https://api.hubapi.com",
            timeout=timeout,
        ))
    return channels


def check_channels(env: Mapping[str, str] | None = None) -> int:
    """Check the delivery settings before any work starts; return the channels configured.

    ``salesradar run`` calls this first, so that a webhook URL without its secret fails in a
    second, not after the scoring.
    """
    try:
        return len(channels_from_env(env))
    except UserInputError as exc:
        raise UserInputError(
            f"delivery settings: {exc}; nothing was computed. Fix the setting, or run with "
            "--no-deliver"
        ) from None


def people_from_reps(
    reps: Iterable[Mapping[str, Any]], *, default_lang: Lang = "he"
) -> dict[str, Person]:
    """The directory from rows of the ``reps`` table (rep_id, name, email; optional lang and
    hubspot_owner_id columns). Managers are reps too: their ``rep_id`` is the ``manager_id``."""
    people: dict[str, Person] = {}
    for rep in reps:
        rep_id = str(rep["rep_id"])
        lang = rep.get("lang") or default_lang
        if lang not in ("he", "en"):
            raise UserInputError(f"rep {rep_id}: lang must be 'he' or 'en', got {lang!r}")
        owner = rep.get("hubspot_owner_id")
        people[rep_id] = Person(
            rep_id, str(rep.get("name") or rep_id), rep.get("email") or None, lang,
            str(owner) if owner else None,
        )
    return people
