"""Scoring's two threads (scoring._Lanes): each thread its own connection with the usual
settings, steps numbered as before, and the first error raised at once, not hidden."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from salesradar.models.features import sharing_customer_days
from salesradar.models.scoring import _Lanes

from .invoice_helpers import simulated


def test_a_thread_view_has_the_connection_settings() -> None:
    ws = simulated(customers=20, days=60, seed=1)
    view = ws.thread_view()
    settings = dict(view.con.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN "
        "('TimeZone', 'python_enable_replacements', 'enable_progress_bar')").fetchall())
    assert settings == {"TimeZone": "UTC", "python_enable_replacements": "false",
                        "enable_progress_bar": "false"}
    view.close()
    assert ws.con.execute("SELECT 1").fetchall() == [(1,)]  # the workspace stays open


def test_steps_run_on_their_own_connections_and_are_numbered_in_order() -> None:
    ws = simulated(customers=20, days=60, seed=1)
    told: list[tuple[str, int, int]] = []
    with sharing_customer_days(ws), _Lanes(ws, lambda *a: told.append(a), 3) as lanes:
        lanes.submit("gates", lambda view: view.con, announce=False)
        for name in ("a", "b"):
            lanes.submit(name, lambda view: (view.con, threading.get_ident()))
        results = lanes.results()
    connections = {id(results["gates"][0]), id(results["a"][0][0]), id(results["b"][0][0])}
    assert ws.con not in (results["a"][0][0], results["b"][0][0])
    assert len(connections) <= 2  # one per thread, reused by the thread's next step
    assert sorted(told) == [("a", 1, 3), ("b", 2, 3)]
    with pytest.raises(duckdb.ConnectionException):  # closed on leaving
        results["a"][0][0].execute("SELECT 1")


def test_the_first_error_is_raised_without_waiting_for_the_other_steps() -> None:
    ws = simulated(customers=20, days=60, seed=1)
    finished: list[str] = []

    def slow(view: object) -> None:
        time.sleep(1.5)
        finished.append("slow")

    def failing(view: object) -> None:
        time.sleep(0.1)
        raise ValueError("the first error")

    def later(view: object) -> None:  # fails only because of the first (as a shared resource)
        raise RuntimeError("a consequence")

    began = time.perf_counter()
    with pytest.raises(ValueError, match="the first error"), _Lanes(ws, None, 3) as lanes:
        lanes.submit("slow", slow)
        lanes.submit("failing", failing)
        lanes.submit("later", later)
        try:
            lanes.results()
        finally:
            raised_after = time.perf_counter() - began
    assert raised_after < 1.0  # not after the slow step
    assert finished == ["slow"]  # which finished before the block was left
