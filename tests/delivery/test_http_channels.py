"""Slack, Teams, signed webhook and HubSpot tasks against real local HTTP servers."""

from __future__ import annotations

from datetime import timedelta

from salesradar.delivery import (
    HubSpotTaskChannel,
    Person,
    SlackChannel,
    TeamsChannel,
    WebhookChannel,
    deliver,
    sign,
    verify,
)

from .delivery_helpers import PEOPLE, T0, seeded_store
from .servers import Recorder, free_port, http_server, wait_for

ONLY_REP = {"r1": PEOPLE["r1"]}


def test_slack_incoming_webhook_payload() -> None:
    recorder = Recorder()
    with http_server(recorder) as url:
        report = deliver(seeded_store(), [SlackChannel(url + "/services/T/B/X", timeout=5)], T0,
                         directory=ONLY_REP)
    assert (report.sent, report.unroutable) == (1, 0)  # one post per insight, for its owner
    (request,) = recorder.received
    assert request.path == "/services/T/B/X"
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert body["text"].startswith("New insight: C-1 has not ordered for 41 days")
    assert [b["type"] for b in body["blocks"]] == ["header", "section"]
    assert body["blocks"][1]["text"]["type"] == "mrkdwn"


def test_teams_workflow_webhook_adaptive_card_rtl_for_hebrew() -> None:
    recorder = Recorder()
    hebrew_rep = {"r1": Person("r1", "דנה", lang="he"), "m1": PEOPLE["m1"]}
    with http_server(recorder) as url:
        deliver(seeded_store("C-1"), [TeamsChannel(url, timeout=5)], T0, directory=hebrew_rep)
        deliver(seeded_store("C-1"), [TeamsChannel(url, timeout=5)], T0, directory=ONLY_REP)
    cards = {r.json()["attachments"][0]["content"]["body"][0]["text"]: r.json()
             for r in recorder.received}
    assert len(cards) == 2  # one card per insight (to its owner), not one per recipient
    hebrew = cards["תובנה חדשה: הלקוח C-1 לא הזמין 41 יום"]
    assert hebrew["type"] == "message"
    attachment = hebrew["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["rtl"] is True
    english = cards["New insight: C-1 has not ordered for 41 days"]
    assert "rtl" not in english["attachments"][0]["content"]


def test_webhook_is_signed_and_carries_an_idempotency_key() -> None:
    recorder = Recorder(secret="s3cret")
    with http_server(recorder) as url:
        report = deliver(seeded_store(), [WebhookChannel(url, "s3cret", timeout=5)], T0,
                         directory=ONLY_REP)
    assert report.sent == 1
    (request,) = recorder.processed
    assert verify("s3cret", request.body, request.headers["X-Salesradar-Timestamp"],
                  request.headers["X-Salesradar-Signature"])
    assert request.headers["Idempotency-Key"].startswith("sr-")
    payload = request.json()
    assert payload["id"] == request.headers["Idempotency-Key"]
    assert payload["insights"][0]["dedup_key"] == "churn_risk:customer:C-1"
    assert payload["insights"][0]["value_at_stake"] == 10_000


def test_signature_rejects_tampering_and_replay() -> None:
    body = b'{"a": 1}'
    signature = sign("k", "1000", body)
    assert verify("k", body, "1000", signature, now=1000)
    assert not verify("k", b'{"a": 2}', "1000", signature, now=1000)
    assert not verify("other", body, "1000", signature, now=1000)
    assert not verify("k", body, "1000", signature, now=1000 + 301)  # replayed too late
    assert not verify("k", body, "1301", signature, now=1301)  # fresh timestamp, old signature


def test_a_wrong_secret_is_a_permanent_failure() -> None:
    recorder = Recorder(secret="right")
    store = seeded_store()
    with http_server(recorder) as url:
        channel = WebhookChannel(url, "wrong", timeout=5)
        assert deliver(store, [channel], T0, directory=ONLY_REP).failed == 1
        assert deliver(store, [channel], T0 + timedelta(days=1), directory=ONLY_REP).sent == 0
    assert len(recorder.received) == 1 and recorder.processed == []


def test_hubspot_task_with_bearer_token() -> None:
    recorder = Recorder(token="pat-123")
    with http_server(recorder) as url:
        report = deliver(seeded_store(), [HubSpotTaskChannel("pat-123", base_url=url, timeout=5)],
                         T0, directory=ONLY_REP)
    assert report.sent == 1
    (request,) = recorder.processed
    assert request.path == "/crm/v3/objects/tasks"
    assert request.headers["Authorization"] == "Bearer pat-123"
    properties = request.json()["properties"]
    assert properties["hs_task_subject"] == "New insight: C-1 has not ordered for 41 days"
    assert properties["hs_task_status"] == "NOT_STARTED"
    assert properties["hs_task_priority"] == "MEDIUM"
    assert properties["hubspot_owner_id"] == "501"
    assert properties["hs_timestamp"].isdigit()
    assert "Call the buyer this week" in properties["hs_task_body"]


def test_hubspot_bad_token_fails_permanently_without_retry() -> None:
    recorder = Recorder(token="pat-123")
    store = seeded_store()
    with http_server(recorder) as url:
        channel = HubSpotTaskChannel("expired", base_url=url, timeout=5)
        assert deliver(store, [channel], T0, directory=ONLY_REP).failed == 1
        assert deliver(store, [channel], T0 + timedelta(days=1), directory=ONLY_REP).sent == 0
    assert len(recorder.received) == 1


def test_server_down_retries_with_backoff_then_delivers_exactly_once() -> None:
    store = seeded_store()
    port = free_port()  # nothing listens here yet
    channel = WebhookChannel(f"http://127.0.0.1:{port}/hook", "k", timeout=5)
    run = [deliver(store, [channel], T0 + timedelta(minutes=m), directory=ONLY_REP)
           for m in (0, 0.5, 1, 2)]
    # attempt 1 at 0 min → next at +1 min; attempt 2 at 1 min → next at +2 min (3 min)
    assert [r.retrying for r in run] == [1, 0, 1, 0]
    recorder = Recorder(secret="k")
    with http_server(recorder, port=port):
        assert deliver(store, [channel], T0 + timedelta(minutes=3), directory=ONLY_REP).sent == 1
        assert deliver(store, [channel], T0 + timedelta(hours=1), directory=ONLY_REP).sent == 0
    assert len(recorder.received) == 1
    (insight,) = store.list_insights()
    assert (insight.status, insight.sent_at) == ("sent", T0 + timedelta(minutes=3))


def test_slow_webhook_beyond_timeout_retries_and_receiver_dedups() -> None:
    """The first answer comes after the client gave up: retried with the same key, one processed."""
    recorder = Recorder(secret="k", slow_first=1)
    store = seeded_store()
    with http_server(recorder) as url:
        impatient = WebhookChannel(url, "k", timeout=0.3)
        assert deliver(store, [impatient], T0, directory=ONLY_REP).retrying == 1
        recorder.release.set()
        patient = WebhookChannel(url, "k", timeout=5)  # same name: the same outbox rows
        assert deliver(store, [patient], T0 + timedelta(minutes=1), directory=ONLY_REP).sent == 1
    assert len(recorder.received) == 2
    keys = {r.headers["Idempotency-Key"] for r in recorder.received}
    assert len(keys) == 1 and len(recorder.processed) == 1


def test_slow_slack_is_not_retried_blindly() -> None:
    """Slack takes no idempotency key: a timeout after sending becomes 'unknown', not a resend."""
    recorder = Recorder(slow_first=1)
    store = seeded_store()
    with http_server(recorder) as url:
        channel = SlackChannel(url, timeout=0.3)
        assert deliver(store, [channel], T0, directory=ONLY_REP).unknown == 1
        recorder.release.set()
        assert deliver(store, [channel], T0 + timedelta(days=1), directory=ONLY_REP).sent == 0
        wait_for(lambda: len(recorder.received) == 1, what="the one request")
    assert len(recorder.received) == 1
