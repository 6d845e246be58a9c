"""Run delivery in a child process whose channel hangs right after sending (killed by the test).

Usage: python crash_worker.py DB_URL CHANNEL(webhook|slack) URL NOW_ISO SIGNAL_FILE

The channel sends for real, then writes SIGNAL_FILE and blocks forever, so the parent can
SIGKILL it after the send and before the outbox row is marked sent.
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from pathlib import Path

from salesradar.app import AppDB
from salesradar.delivery import Message, Person, SlackChannel, WebhookChannel, deliver
from salesradar.insights import InsightStore

SIGNAL = Path(sys.argv[5]) if len(sys.argv) > 5 else Path("sent.signal")


def _hang(message: Message) -> None:
    SIGNAL.write_text(message.key)
    threading.Event().wait()  # hang until killed


class HangingWebhook(WebhookChannel):
    def send(self, message: Message) -> None:
        super().send(message)
        _hang(message)


class HangingSlack(SlackChannel):
    def send(self, message: Message) -> None:
        super().send(message)
        _hang(message)


def main() -> None:
    db_url, kind, url, now = sys.argv[1:5]
    channel = HangingWebhook(url, "k", timeout=5) if kind == "webhook" else HangingSlack(url)
    deliver(InsightStore(AppDB.open(db_url)), [channel], datetime.fromisoformat(now),
            directory={"r1": Person("r1", "Dana", "dana@example.com")})


if __name__ == "__main__":
    main()
