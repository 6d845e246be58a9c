"""Killing the process between *send* and *record*: what the next run does.

A child process runs :func:`deliver`; its channel really sends, then hangs; the test SIGKILLs
it there, so the outbox row stays ``sending`` (claimed, never recorded). Then delivery runs again,
after the claim's lease.

* Webhook (idempotent): the row is re-sent with the **same Idempotency-Key**; the receiver gets the
  request twice and processes it once. This checks at-least-once delivery plus receiver-side dedup,
  i.e. exactly-once *processing*; it does not (cannot) prevent the second request on the wire.
* Slack (no idempotency key): the claim protocol leaves the row ``unknown`` and does not re-send;
  the receiver got exactly one request. This checks at-most-once: no duplicate, at the price that a
  crash *before* the send would also leave the message unsent until a person requeues it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from salesradar.app import AppDB, OutboxRow
from salesradar.delivery import SlackChannel, WebhookChannel, deliver, requeue_unknown
from salesradar.insights import InsightStore, StoreSettings

from .delivery_helpers import PEOPLE, T0, seeded_store
from .servers import Recorder, http_server, wait_for

WORKER = Path(__file__).with_name("crash_worker.py")


def _statuses(store: InsightStore) -> list[str]:
    with store.db.session() as s:
        return [r.status for r in s.scalars(select(OutboxRow))]


def _run_and_kill(db_url: str, kind: str, url: str, tmp_path: Path) -> None:
    signal_file = tmp_path / "sent.signal"
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    child = subprocess.Popen(
        [sys.executable, str(WORKER), db_url, kind, url, T0.isoformat(), str(signal_file)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: signal_file.exists() or child.poll() is not None, timeout=30,
                 what="the child to send")
        assert child.poll() is None, child.communicate()[1].decode()
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        child.stdout.close()  # type: ignore[union-attr]
        child.stderr.close()  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["webhook", "slack"])
def test_kill_between_send_and_record(kind: str, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    store = seeded_store(store=InsightStore(AppDB.open(db_url), StoreSettings(holdout_fraction=0)))
    only_rep = {"r1": PEOPLE["r1"]}
    recorder = Recorder(secret="k" if kind == "webhook" else None)
    with http_server(recorder) as url:
        _run_and_kill(db_url, kind, url, tmp_path)
        assert len(recorder.received) == 1
        assert _statuses(store) == ["sending"]
        channel = WebhookChannel(url, "k", timeout=5) if kind == "webhook" else SlackChannel(url)
        # within the lease the claim is respected: nothing happens
        assert deliver(store, [channel], T0 + timedelta(minutes=5), directory=only_rep).sent == 0
        later = deliver(store, [channel], T0 + timedelta(minutes=16), directory=only_rep)
        again = deliver(store, [channel], T0 + timedelta(hours=2), directory=only_rep)
    if kind == "webhook":
        assert (later.sent, again.sent) == (1, 0)
        assert _statuses(store) == ["sent"]
        assert len(recorder.received) == 2
        assert len({r.headers["Idempotency-Key"] for r in recorder.received}) == 1
        assert len(recorder.processed) == 1
    else:
        assert (later.unknown, later.sent, again.sent) == (1, 0, 0)
        assert _statuses(store) == ["unknown"]
        assert len(recorder.received) == 1
        assert requeue_unknown(store, T0 + timedelta(hours=3)) == 1  # a person's explicit choice
