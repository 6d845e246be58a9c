"""Scoring writes each score table as soon as its step has finished (scoring._Lanes.results'
``done``), while the other steps still run; a failed step leaves no scores that pass for
current; Workspace.write_arrow stores a long Arrow table as it is, row for row, in order."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from salesradar.models import scoring
from salesradar.models.features import sharing_customer_days
from salesradar.models.scoring import SCORE_TABLES, _Lanes, score_workspace
from salesradar.models.store import stored_scores_key
from salesradar.workspace import ROW_GROUP_ROWS, Workspace

from .invoice_helpers import day, insert, simulated


def test_a_finished_step_is_handed_over_while_the_others_still_run() -> None:
    ws = simulated(customers=20, days=60, seed=1)
    handed = threading.Event()
    seen: list[tuple[str, object, bool]] = []

    def slow(view: object) -> str:
        # finishes only once the quick step was handed over (or after 10 s, failing below)
        return "slow" if handed.wait(10) else "not handed over while running"

    def done(name: str, result: tuple[object, float]) -> None:
        seen.append((name, result[0], threading.current_thread() is threading.main_thread()))
        if name == "quick":
            handed.set()

    with sharing_customer_days(ws), _Lanes(ws, None, 2) as lanes:
        lanes.submit("slow", slow)
        lanes.submit("quick", lambda view: "quick")
        results = lanes.results(done)
    assert seen == [("quick", "quick", True), ("slow", "slow", True)]
    assert {name: value for name, (value, _) in results.items()} == {"slow": "slow",
                                                                     "quick": "quick"}


def test_no_step_is_handed_over_after_a_failure() -> None:
    ws = simulated(customers=20, days=60, seed=1)
    seen: list[str] = []

    def failing(view: object) -> None:
        raise ValueError("the step failed")

    with pytest.raises(ValueError, match="the step failed"), _Lanes(ws, None, 2) as lanes:
        lanes.submit("failing", failing)
        lanes.results(lambda name, result: seen.append(name))
    assert seen == []


@pytest.fixture(scope="module")
def lines() -> dict[str, list[object]]:
    result: dict[str, list[object]] = simulated(customers=120, days=400, seed=3).table(
        "invoice_lines").to_pyarrow().to_pydict()
    return result


def test_a_failed_step_leaves_no_scores_that_pass_for_current(
    tmp_path: Path, lines: dict[str, list[object]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        insert(ws, "invoice_lines", lines)
        first = score_workspace(ws, day(380))
        assert stored_scores_key(ws) is not None

        def failing(*args: object, **kwargs: object) -> None:
            raise RuntimeError("stopped items failed")

        monkeypatch.setattr(scoring, "_score_stopped_items", failing)
        with pytest.raises(RuntimeError, match="stopped items failed"):
            score_workspace(ws, day(380), reuse=False)
        # the other tables may have been written anew; none of them is taken as current
        assert stored_scores_key(ws) is None
        monkeypatch.undo()
        again = score_workspace(ws, day(380))
    assert again.reused is False
    assert again.rows == first.rows == {t: again.rows[t] for t in SCORE_TABLES.values()}


@pytest.mark.parametrize("sizes", [[3 * ROW_GROUP_ROWS + 17], [5, ROW_GROUP_ROWS * 2, 1000]])
def test_a_long_arrow_table_is_stored_row_for_row_in_order(tmp_path: Path,
                                                           sizes: list[int]) -> None:
    rows = sum(sizes)
    ids = [f"C{(i * 7919) % rows:07d}" for i in range(rows)]  # not in any sorted order
    table = pa.table({
        "customer_id": ids,
        "n": pa.array(range(rows), pa.int64()),
        "reason": [None if i % 11 == 0 else f"offer {i % 997} because {i % 13}"
                   for i in range(rows)],
        "reasons": pa.array([[f"r{i % 5}"] * (i % 3) for i in range(rows)],
                            pa.list_(pa.string())),
    })
    batches, start = [], 0
    for size in sizes:  # the table's own chunks, of these sizes
        batches.extend(table.slice(start, size).to_batches())
        start += size
    chunked = pa.Table.from_batches(batches, table.schema)
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        ws.write_arrow("written", pa.table({"x": [1]}))
        ws.write_arrow("written", chunked)  # replaced
        stored = ws.con.execute("FROM written").to_arrow_table()
    assert stored.schema.equals(table.schema)
    assert stored.combine_chunks().equals(table.combine_chunks())
