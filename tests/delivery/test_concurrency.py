"""Two delivery runs at once on one SQLite file: every message is claimed and sent once."""

from __future__ import annotations

import threading
from pathlib import Path

from salesradar.app import AppDB
from salesradar.delivery import DeliveryReport, WebhookChannel, deliver
from salesradar.insights import InsightStore, StoreSettings

from .delivery_helpers import PEOPLE, T0, seeded_store
from .servers import Recorder, http_server


def test_overlapping_runs_send_each_message_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    seeded_store(*(f"C-{i}" for i in range(10)),
                 store=InsightStore(AppDB.open(url), StoreSettings(holdout_fraction=0)))
    recorder = Recorder(secret="k")
    reports: list[DeliveryReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(hook: str) -> None:
        try:
            with AppDB.open(url) as db:
                start.wait(10)
                reports.append(deliver(InsightStore(db), [WebhookChannel(hook, "k", timeout=5)],
                                       T0, directory=PEOPLE))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    with http_server(recorder) as hook:
        threads = [threading.Thread(target=run, args=(hook,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert errors == []
    assert sum(r.sent for r in reports) == 20  # 10 insights × (rep + manager)
    assert len(recorder.received) == 20
    assert len({r.headers["Idempotency-Key"] for r in recorder.received}) == 20
