"""Channels from environment variables and the directory from reps rows."""

from __future__ import annotations

import pytest

from salesradar.delivery import EmailChannel, HubSpotTaskChannel, SlackChannel, WebhookChannel
from salesradar.delivery.setup import channels_from_env, check_channels, people_from_reps
from salesradar.errors import UserInputError


def test_channels_from_env() -> None:
    assert channels_from_env({}) == []
    channels = channels_from_env({
        "SALESRADAR_SMTP_HOST": "mail", "SALESRADAR_SMTP_FROM": "radar@acme.co.il",
        "SALESRADAR_SLACK_WEBHOOK_URL": "https://hooks.example/1",
        "SALESRADAR_WEBHOOK_URL": "https://acme.example/hook", "SALESRADAR_WEBHOOK_SECRET": "k",
        "SALESRADAR_HUBSPOT_TOKEN": "pat", "SALESRADAR_DELIVERY_TIMEOUT": "3",
    })
    assert [type(c) for c in channels] == [
        EmailChannel, SlackChannel, WebhookChannel, HubSpotTaskChannel
    ]
    email = channels[0]
    assert isinstance(email, EmailChannel)
    assert (email.port, email.starttls, email.timeout) == (587, True, 3.0)
    assert [c.name for c in channels] == ["email", "slack", "webhook", "hubspot"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SALESRADAR_SMTP_HOST": "mail"}, "SALESRADAR_SMTP_FROM"),
        ({"SALESRADAR_WEBHOOK_URL": "https://x"}, "SALESRADAR_WEBHOOK_SECRET"),
        ({"SALESRADAR_SLACK_WEBHOOK_URL": "u", "SALESRADAR_DELIVERY_TIMEOUT": "soon"}, "number"),
    ],
)
def test_incomplete_configuration_is_a_clear_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        channels_from_env(env)


def test_people_from_reps() -> None:
    people = people_from_reps([
        {"rep_id": "r1", "name": "דנה", "email": "dana@acme.co.il", "team": "north"},
        {"rep_id": 7, "name": None, "email": "", "lang": "en", "hubspot_owner_id": 501},
    ])
    assert people["r1"].lang == "he" and people["r1"].email == "dana@acme.co.il"
    assert (people["7"].name, people["7"].email, people["7"].hubspot_owner_id) == ("7", None, "501")
    with pytest.raises(UserInputError, match="lang"):
        people_from_reps([{"rep_id": "x", "lang": "fr"}])


def test_check_channels_says_nothing_was_computed() -> None:
    assert check_channels({}) == 0
    assert check_channels({"SALESRADAR_WEBHOOK_URL": "https://x",
                           "SALESRADAR_WEBHOOK_SECRET": "k"}) == 1
    with pytest.raises(UserInputError, match=r"delivery settings: .*SECRET.*--no-deliver"):
        check_channels({"SALESRADAR_WEBHOOK_URL": "https://x"})
