"""The shared HTTP client: Retry-After in both forms, redaction, network errors."""

from __future__ import annotations

import base64
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from salesradar.connectors.base import ConnectorError
from salesradar.connectors.http import ApiClient, Redactor, retry_after

from .conftest import FAST, Sleeper


def answer(headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def test_retry_after_seconds_or_date() -> None:
    assert retry_after(answer({"Retry-After": "7"})) == 7.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after(answer({"Retry-After": later})) or 0) <= 30
    assert retry_after(answer({"Retry-After": "soon"})) is None
    assert retry_after(answer({})) is None


def test_redactor_hides_the_secret_its_parts_and_encodings() -> None:
    redact = Redactor(["apiuser:s3cret-Pa55", "TOKEN123456:PAT"])
    basic = base64.b64encode(b"apiuser:s3cret-Pa55").decode()
    text = f"user apiuser, password s3cret-Pa55, header Basic {basic}, token TOKEN123456"
    assert redact(text) == "user apiuser, password ***, header Basic ***, token ***"


def test_a_server_that_does_not_answer(sleeper: Sleeper) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ApiClient("erp", "priority", f"http://127.0.0.1:{port}/", settings=FAST,
                       secrets=["u:pw-123456"], sleep=sleeper)
    with pytest.raises(ConnectorError, match=r"connection 'erp' \(priority\): AGENTS: no "
                       r"answer after 3 tries \(ConnectError"):
        client.get_json("AGENTS", what="AGENTS")
    assert len(sleeper.waits) == 2 and client.retries == 2
    client.close()
