"""Planning and the retry policy: holdout, daily limits, operating models, rounds, dry run."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest
from sqlalchemy import select

from insights.insight_helpers import make_insight, memory_store
from salesradar.app import OutboxRow
from salesradar.delivery import (
    DeliveryError,
    DeliverySettings,
    Message,
    backoff,
    deliver,
)
from salesradar.errors import UserInputError
from salesradar.insights import InsightStore

from .delivery_helpers import PEOPLE, T0

ONLY_REP = {"r1": PEOPLE["r1"]}


class FakeChannel:
    """Records what it is asked to send; fails while ``failing`` is set."""

    idempotent: ClassVar[bool] = True
    audience: ClassVar[str] = "personal"

    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.sent: list[Message] = []
        self.failing: DeliveryError | None = None

    def send(self, message: Message) -> None:
        if self.failing is not None:
            raise self.failing
        self.sent.append(message)


def _outbox(store: InsightStore) -> list[OutboxRow]:
    with store.db.session() as s:
        return list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_holdout_insights_are_never_delivered() -> None:
    store = memory_store(holdout_fraction=0.5, holdout_salt="t")
    store.db.set_team_settings("north", daily_limit_per_rep=100)
    store.upsert_many([make_insight(f"C-{i}") for i in range(40)], T0)
    held = {i.id for i in store.list_insights(holdout=True)}
    assert 0 < len(held) < 40
    channel = FakeChannel()
    deliver(store, [channel], T0, directory=ONLY_REP)
    sent_ids = {m.insights[0]["insight_id"] for m in channel.sent}
    assert sent_ids.isdisjoint(held) and len(sent_ids) == 40 - len(held)
    assert {i.status for i in store.list_insights(holdout=True)} == {"new"}


def test_daily_limit_per_rep_keeps_the_highest_priorities() -> None:
    store = memory_store()
    store.db.set_team_settings("north", daily_limit_per_rep=2)
    store.upsert_many([make_insight(f"C-{p}", priority=p) for p in (10, 90, 50, 70, 30)], T0)
    channels = [FakeChannel("a"), FakeChannel("b")]
    first = deliver(store, channels, T0, directory=ONLY_REP)
    assert (first.queued, first.deferred, first.sent) == (4, 3, 4)  # 2 insights × 2 channels
    assert [m.priority for m in channels[0].sent] == [90, 70]
    assert deliver(store, channels, T0 + timedelta(hours=5), directory=ONLY_REP).queued == 0
    deliver(store, channels, T0 + timedelta(days=1), directory=ONLY_REP)
    assert [m.priority for m in channels[0].sent] == [90, 70, 50, 30]


def test_account_model_gets_one_supportive_weekly_digest_per_rep() -> None:
    store = memory_store()
    store.db.set_team_settings("north", operating_model="account", digest_weekday=0)
    store.upsert_many([make_insight("C-1", priority=40), make_insight("C-2", priority=80)], T0)
    channel = FakeChannel()
    report = deliver(store, [channel], T0, directory=PEOPLE)
    (digest,) = channel.sent
    assert (report.queued, digest.kind, digest.recipient.id) == (1, "digest", "r1")
    assert digest.subject == "Your open insights for week 2026-W48: 2"
    assert digest.text.startswith("A reminder")
    assert [i["priority"] for i in digest.insights] == [80, 40]
    assert {i.status for i in store.list_insights()} == {"sent"}
    assert deliver(store, [channel], T0 + timedelta(days=3), directory=PEOPLE).queued == 0
    store.acknowledge(store.list_insights()[0].id, T0)  # still open: listed again next week
    deliver(store, [channel], T0 + timedelta(days=7), directory=PEOPLE)
    assert len(channel.sent) == 2 and len(channel.sent[1].insights) == 2


def test_digest_waits_for_the_team_weekday() -> None:
    store = memory_store()
    store.db.set_team_settings("north", operating_model="account", digest_weekday=3)
    store.upsert_many([make_insight("C-1")], T0)
    channel = FakeChannel()
    assert deliver(store, [channel], T0, directory=PEOPLE).queued == 0  # Monday
    assert deliver(store, [channel], T0 + timedelta(days=3), directory=PEOPLE).queued == 1


def test_dismissed_before_sending_is_cancelled() -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1")], T0)
    channel = FakeChannel()
    channel.failing = DeliveryError("down")
    deliver(store, [channel], T0, directory=ONLY_REP)
    store.dismiss(store.list_insights()[0].id, T0)
    channel.failing = None
    assert deliver(store, [channel], T0 + timedelta(hours=1), directory=ONLY_REP).cancelled == 1
    assert channel.sent == []


def test_a_reopened_insight_is_pushed_again_once() -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1")], T0)
    channel = FakeChannel()
    deliver(store, [channel], T0, directory=ONLY_REP)
    (insight,) = store.list_insights()
    store.dismiss(insight.id, T0)
    store.upsert_many([make_insight("C-1", value=30_000)], T0 + timedelta(days=1))
    deliver(store, [channel], T0 + timedelta(days=1), directory=ONLY_REP)
    deliver(store, [channel], T0 + timedelta(days=2), directory=ONLY_REP)
    assert len(channel.sent) == 2
    assert channel.sent[0].key != channel.sent[1].key
    assert [r.message_key for r in _outbox(store)] == [
        f"insight:{insight.id}:r1", f"insight:{insight.id}:r2"
    ]


def test_dry_run_queues_and_sends_nothing() -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1")], T0)
    channel = FakeChannel()
    report = deliver(store, [channel], T0, directory=PEOPLE, dry_run=True)
    assert [(c, m.recipient.id) for c, m in report.previews] == [("fake", "r1"), ("fake", "m1")]
    assert report.to_dict()["previews"][1]["subject"].startswith("תובנה חדשה")  # type: ignore[index]
    assert channel.sent == [] and _outbox(store) == []


def test_backoff_doubles_and_caps() -> None:
    settings = DeliverySettings(backoff_base=timedelta(minutes=1), backoff_cap=timedelta(hours=1))
    assert [backoff(n, settings) for n in (1, 2, 3, 7, 8)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 60, 60)
    ]


@pytest.mark.parametrize("permanent", [False, True])
def test_attempts_run_out_or_permanent_errors_fail(permanent: bool) -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1")], T0)
    channel = FakeChannel()
    channel.failing = DeliveryError("no", permanent=permanent)
    settings = DeliverySettings(max_attempts=3)
    now = T0
    for _ in range(4):
        deliver(store, [channel], now, directory=ONLY_REP, settings=settings)
        now += timedelta(hours=1)
    (row,) = _outbox(store)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1 if permanent else 3, "no")


def test_channel_names_must_be_unique_and_now_aware() -> None:
    store = memory_store()
    with pytest.raises(UserInputError, match="share a name"):
        deliver(store, [FakeChannel("x"), FakeChannel("x")], T0, directory=ONLY_REP)
    with pytest.raises(UserInputError, match="timezone-aware"):
        deliver(store, [FakeChannel()], T0.replace(tzinfo=None), directory=ONLY_REP)
