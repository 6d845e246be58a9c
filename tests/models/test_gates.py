"""Models earn their alerts: the gate's decision on hand-built cases, and a scored workspace."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from salesradar.models import gates as gates_module
from salesradar.models.gates import (
    GATE_COLUMNS,
    GATE_TABLE,
    GATES_FORMAT,
    SAMPLE_TABLE,
    Gate,
    compare_auc,
    compare_means,
    compare_ratios,
    compute_gates,
    model_gates,
    read_gates,
    weighted_auc,
)
from salesradar.models.scoring import score_workspace
from salesradar.workspace import Workspace

from .invoice_helpers import day, insert, simulated

HEBREW = re.compile(r"[\u05d0-\u05ea]")


# ----------------------------------------------------------------------------- statistics
def test_weighted_auc_by_hand() -> None:
    y = [True, False, True, False]
    s = [0.9, 0.1, 0.4, 0.4]
    # pairs (positive, negative): 0.9>0.1, 0.9>0.4, 0.4>0.1, 0.4=0.4 (a half): 3.5 of 4
    assert weighted_auc(y, s)[0] == pytest.approx(0.875)
    # the first case twice: 2·1 + 2·1 + 1·1 + 1·0.5 = 5.5 of 3 positives × 2 negatives
    assert weighted_auc(y, s, [[2, 1, 1, 1]])[0] == pytest.approx(5.5 / 6)
    assert np.isnan(weighted_auc(y, s, [[0, 1, 0, 1]])[0])  # no positive left


def _labels(positives: int, negatives: int) -> np.ndarray[Any, Any]:
    return np.r_[np.ones(positives, bool), np.zeros(negatives, bool)]


def test_a_clear_win_lets_the_model_speak() -> None:
    y = _labels(40, 40)
    model = y.astype(float)  # separates perfectly: AUC 1
    baseline = np.tile([0.0, 1.0], 40)  # half of each class high: AUC 0.5
    c = compare_auc(y, model, baseline)
    assert c.decision == "model"
    assert c.model_value == 1.0 and c.baseline_value == 0.5
    assert c.diff_ci_low is not None and c.diff_ci_high is not None
    assert 0 < c.diff_ci_low <= 0.5 <= c.diff_ci_high <= 0.75
    assert (c.n_cases, c.n_positive) == (80, 40)


def test_a_tie_within_the_interval_lets_the_rule_speak() -> None:
    rng = np.random.default_rng(3)
    y = _labels(50, 50)
    score = y + rng.normal(0, 1.0, 100)
    noisy = score.copy()
    noisy[[0, 60]] = noisy[[60, 0]]  # two customers swapped: a hair apart
    c = compare_auc(y, score, noisy)
    assert c.decision == "rule"
    assert c.diff_ci_low is not None and c.diff_ci_high is not None
    assert c.diff_ci_low <= 0 <= c.diff_ci_high
    same = compare_auc(y, score, score)  # identical scores: the difference is exactly 0
    assert same.decision == "rule" and same.diff_ci_low == same.diff_ci_high == 0.0


def test_the_rule_doing_better_lets_the_rule_speak() -> None:
    y = _labels(40, 40)
    c = compare_auc(y, np.tile([0.0, 1.0], 40), y.astype(float))
    assert c.decision == "rule"
    assert c.diff_ci_high is not None and c.diff_ci_high < 0


def test_too_few_cases_is_not_enough_data() -> None:
    y = _labels(10, 90)
    c = compare_auc(y, y.astype(float), np.zeros(100))  # a perfect model, but 10 churned
    assert c.decision == "not_enough_data" and c.model_value == 1.0
    assert c.diff_ci_low is None and "10 churned and 90 stayed" in c.short_of
    # cross-sell on 4 customers (the demo's evaluate): a "win" that proves nothing
    few = compare_means([0.3, 0.2, 0.1, 0.1], [0.0, 0.0, 0.1, 0.0])
    assert few.decision == "not_enough_data" and few.n_cases == 4
    assert few.model_value == pytest.approx(0.175)


def test_cross_sell_means_by_hand() -> None:
    model = np.r_[np.full(20, 0.2), np.full(20, 0.1)]  # mean 0.15
    baseline = np.full(40, 0.05)
    c = compare_means(model, baseline, positive=model > 0)
    assert c.decision == "model"
    assert c.model_value == pytest.approx(0.15) and c.baseline_value == pytest.approx(0.05)
    # every resample's difference lies between 0.05 and 0.15
    assert c.diff_ci_low is not None and c.diff_ci_high is not None
    assert 0.05 <= c.diff_ci_low <= 0.1 <= c.diff_ci_high <= 0.15
    assert c.n_positive == 40


def test_stopped_items_precision_by_hand() -> None:
    flags = np.ones(40)
    model_hits = np.r_[np.ones(30), np.zeros(10)]  # 30 of 40: 0.75
    rule_hits = np.r_[np.zeros(30), np.ones(10)]  # 10 of 40: 0.25
    c = compare_ratios(model_hits, flags, rule_hits, flags)
    assert c.decision == "model"
    assert (c.model_value, c.baseline_value, c.n_cases, c.n_positive) == (0.75, 0.25, 80, 40)
    worse = compare_ratios(rule_hits, flags, model_hits, flags)
    assert worse.decision == "rule" and worse.diff_ci_high is not None
    assert worse.diff_ci_high < 0
    few = compare_ratios(model_hits[:5], flags[:5], rule_hits, flags)
    assert few.decision == "not_enough_data" and "flagged 5 items" in few.short_of


def test_the_bootstrap_is_seeded() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(200) < 0.4
    a, b = y + rng.normal(0, 1, 200), y + rng.normal(0, 1.2, 200)
    assert compare_auc(y, a, b) == compare_auc(y, a, b)
    assert compare_auc(y, a, b, seed=1) != compare_auc(y, a, b)


def test_reasons_in_both_languages() -> None:
    y = _labels(40, 40)
    won = compare_auc(y, y.astype(float), np.tile([0.0, 1.0], 40))
    few = compare_means([0.1] * 4, [0.0] * 4)
    en, he = gates_module._reasons("churn", won)
    assert en.startswith("the churn model beats the recency rule") and "1.000 vs 0.500" in en
    assert HEBREW.search(he) and "1.000" in he
    en, he = gates_module._reasons("cross_sell", few)
    assert en.startswith("not enough data to judge the cross-sell model")
    assert en.endswith("the popularity rule (the most popular items the customer doesn't buy) "
                       "speaks")
    assert HEBREW.search(he)


# ----------------------------------------------------------------------------- a workspace
@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gates") / "company.duckdb"
    source = simulated(customers=300, days=540, seed=5)
    with Workspace.open(path) as ws:
        insert(ws, "invoice_lines", source.table("invoice_lines").to_pyarrow().to_pydict())
        score_workspace(ws, day(449))
    return path


def test_gates_of_an_older_version_are_decided_anew(scored: Path, tmp_path: Path) -> None:
    # the same data and day: stored decisions are reused, unless an older version's backtests
    # made them (no gates_format: before stopped items had to be past their longest pause)
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(scored, path)
    with Workspace.open(path) as ws:
        ws.con.execute("UPDATE model_gates SET reason = 'kept'")
        assert {g.reason for g in model_gates(ws, day(449)).values()} == {"kept"}
        ws.con.execute("ALTER TABLE model_gates DROP COLUMN gates_format")
        assert "kept" not in {g.reason for g in model_gates(ws, day(449)).values()}
        formats = ws.con.execute("SELECT DISTINCT gates_format FROM model_gates").fetchall()
        assert formats == [(GATES_FORMAT,)]


def test_score_writes_the_gates_and_who_scored(scored: Path) -> None:
    with Workspace.open(scored, read_only=True) as ws:
        stored = ws.table(GATE_TABLE).to_pyarrow()
        assert stored.schema.names == [*GATE_COLUMNS.names, "gates_format"]
        rows = read_gates(ws)
        assert sorted(r["model"] for r in rows) == ["churn", "cross_sell", "stopped_items"]
        gates = {r["model"]: r for r in rows}
        churn = gates["churn"]
        assert churn["as_of"] == day(449).isoformat()
        assert churn["cutoff"] == day(449 - 90).isoformat()
        assert churn["metric"] == "roc_auc" and churn["n_cases"] > 0
        for r in rows:
            assert r["decision"] in ("model", "rule", "not_enough_data")
            assert r["reason"] and HEBREW.search(r["reason_he"])
        expected = {"churn": "recency_rule", "stopped_items": "gap_rule",
                    "cross_sell": "popularity"}
        for name, rule in expected.items():
            table = ws.table(f"score_{name}").to_pyarrow()
            who = set(table["scored_by"].to_pylist())
            assert who <= {"model" if gates[name]["decision"] == "model" else rule}, name


def test_unchanged_data_reuses_the_gates(scored: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> list[Gate]:
        raise AssertionError("the gates were recomputed")

    monkeypatch.setattr(gates_module, "compute_gates", refuse)
    with Workspace.open(scored) as ws:
        again = model_gates(ws, day(449), 90)
        assert set(again) == {"churn", "cross_sell", "stopped_items"}
        with pytest.raises(AssertionError, match="recomputed"):
            model_gates(ws, day(440), 90)  # another day: computed again


def _rule_gates(ws: Any, as_of: dt.date, horizon_days: int = 90, **_: Any) -> dict[str, Gate]:
    now = dt.datetime(2026, 1, 1)
    return {name: Gate(name, "rule", "m", 0.5, "rule", 0.6, -0.2, 0.0, 100, 50, "r", "ר",
                       as_of, as_of, horizon_days, None, None, now)
            for name in ("churn", "cross_sell", "stopped_items")}


def test_when_the_rule_speaks_the_scores_come_from_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("salesradar.models.scoring.model_gates", _rule_gates)
    source = simulated(customers=300, days=540, seed=5)
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        insert(ws, "invoice_lines", source.table("invoice_lines").to_pyarrow().to_pydict())
        summary = score_workspace(ws, day(449))
        churn = ws.table("score_churn").to_pyarrow()
        stopped = ws.table("score_stopped_items").to_pyarrow()
        offers = ws.table("score_cross_sell").to_pyarrow()
    assert summary.gates["churn"].decision == "rule"
    assert set(churn["scored_by"].to_pylist()) == {"recency_rule"}
    # the calibrated recency rule: the longer since the last order, the likelier the churn
    recency = np.asarray(churn["days_since_last_order"].to_numpy(), float)
    proba = np.asarray(churn["churn_probability"].to_numpy(), float)
    order = np.argsort(recency, kind="stable")
    assert np.all(np.diff(proba[order]) >= -1e-12)
    assert len(np.unique(proba)) > 1
    at_risk = np.asarray(churn["revenue_at_risk"].to_numpy(), float)
    expected = np.asarray(churn["expected_revenue"].to_numpy(), float)
    np.testing.assert_allclose(at_risk, proba * expected)
    assert np.all(np.diff(at_risk) <= 0)  # ranked by the rule's revenue at risk
    assert stopped.num_rows > 0
    assert set(stopped["scored_by"].to_pylist()) == {"gap_rule"}
    assert stopped["p_gap"].null_count == stopped.num_rows
    gap = np.asarray(stopped["gap_days"].to_numpy(), float)
    median = np.asarray(stopped["median_gap"].to_numpy(), float)
    assert np.all(gap > 2 * np.maximum(median, 1.0))  # the gap rule's definition
    assert stopped["purchases"].null_count == 0
    assert offers.num_rows > 0 and set(offers["scored_by"].to_pylist()) == {"popularity"}
    assert isinstance(offers["customer_id"], pa.ChunkedArray)


def test_the_dashboard_shows_which_models_speak(scored: Path) -> None:
    from salesradar.dashboard import ceo_dashboard
    from salesradar.web.pages import templates

    with Workspace.open(scored, read_only=True) as ws:
        board = ceo_dashboard(ws)
        decisions = {g["model"]: g["decision"] for g in read_gates(ws)}
    panel = board["model_gates"]
    assert {r["model"]: r["decision"] for r in panel["rows"]} == decisions
    for row in panel["rows"]:
        assert row["reason_en"] and HEBREW.search(row["reason_he"] + row["speaks_he"])
    page = templates.env.get_template("dashboard.html")
    for lang, title in (("en", "Which models speak"), ("he", "אילו מודלים מדברים")):
        html = page.render(lang=lang, dir="ltr", caller=None, user=None, csrf=None,
                           board=board, sparks={}, whale=None, page="dashboard")
        section = html[html.index('id="model-gates"'):]
        assert title in section and section.count("data-decision=") == 3


def test_a_large_workspace_is_gated_on_a_stable_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    from salesradar.models import gates

    ws = simulated(customers=300, days=540, seed=5)
    read: list[str] = []
    churn_cases = gates._churn_cases

    def spy(tables: Any, *args: Any) -> Any:
        read.append(tables.lines.get_name())
        return churn_cases(tables, *args)

    monkeypatch.setattr(gates, "_churn_cases", spy)
    first = compute_gates(ws, day(449), 90, max_customers=100)  # 300 customers: 1 in 3 kept
    assert read == [f"temp.main.{SAMPLE_TABLE}"]  # the sample's lines, kept once
    again = compute_gates(ws, day(449), 90, max_customers=100)
    sampled = {g.sampled_customers for g in first}
    assert len(sampled) == 1 and 50 <= (sampled.pop() or 0) <= 150
    assert all("(on a sample of" in g.reason and "מדגם" in g.reason_he for g in first)
    assert [g.n_cases for g in first] == [g.n_cases for g in again]
    # the sample's lines were a temporary table for the backtests only
    left = ws.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                          [SAMPLE_TABLE]).fetchone()
    assert left == (0,)
