"""score, customer and evaluate as a user runs them, on the demo workspace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import as_json, run


def test_score_stores_every_model_and_customer_reads_them(workspace: Path) -> None:
    summary = as_json("score", workspace=workspace)
    assert set(summary["rows"]) == {"score_churn", "score_stopped_items", "score_cross_sell",
                                    "score_tiers", "score_health"}
    assert summary["rows"]["score_churn"] > 0 and summary["top_risks"]
    top = summary["top_risks"][0]
    assert 0 <= top["churn_probability"] <= 1 and top["value_at_stake"] >= 0
    # the fitted churn model is saved beside the workspace; customer explains from it
    assert (Path(str(workspace) + ".models") / "latest.json").exists()
    view = as_json("customer", top["customer_id"], workspace=workspace)
    assert view["churn_risk"]["customer_id"] == top["customer_id"]
    assert view["churn_risk"]["value_at_stake"] >= 0
    # the explanation speaks in the customer's terms: rhythm (or the facts), last order, money
    rhythm = view["churn_risk"]["purchase_days"] >= 3
    assert ("orders every ~" in view["why"][0]) == rhythm and "₪" in view["why"][0]
    hebrew = as_json("customer", top["customer_id"], "--lang", "he", workspace=workspace)
    assert hebrew["why"][0].startswith("מזמין כל ~") == rhythm and "בסיכון" in hebrew["why"][0]
    assert view["tier"]["tier"] in {"A", "B", "C", "D"}
    assert 0 <= view["health"]["health"] <= 100


def test_unknown_customer_is_a_clear_error(workspace: Path) -> None:
    result = run("customer", "NOPE", "--workspace", str(workspace), cwd=workspace.parent)
    assert result.returncode == 2 and "NOPE" in result.stderr
    assert "Traceback" not in result.stderr


def test_evaluate_prints_every_model_beside_its_baseline(workspace: Path) -> None:
    report = as_json("evaluate", workspace=workspace)
    models = {m["model"] for m in report["metrics"]}
    assert {"churn", "stopped_items"} <= models and any(m.startswith("cross_sell") for m in models)
    auc = next(m for m in report["metrics"] if m["metric"] == "roc_auc")
    assert auc["baseline"].startswith("recency rule") and auc["beats_baseline"] in (True, False)
    # which models speak: a small demo company has too few new purchases to judge cross-sell
    gates = {g["model"]: g for g in report["gates"]}
    assert set(gates) == {"churn", "cross_sell", "stopped_items"}
    assert gates["cross_sell"]["decision"] == "not_enough_data"
    cross_sell = gates["cross_sell"]
    assert cross_sell["n_cases"] < 30 and "not enough data" in cross_sell["reason"]
    text = run("evaluate", "--workspace", str(workspace), cwd=workspace.parent).stdout
    assert "which models speak" in text and "not enough data (n=" in text


def test_status_says_which_models_speak(workspace: Path) -> None:
    # `salesradar demo` (the fixture) scored the models: the gates are stored
    status = as_json("status", workspace=workspace)
    assert {g["model"] for g in status["model_gates"]} == {"churn", "cross_sell", "stopped_items"}
    for gate in status["model_gates"]:
        assert gate["decision"] in ("model", "rule", "not_enough_data") and gate["reason_he"]
    hebrew = run("status", "--lang", "he", "--workspace", str(workspace), cwd=workspace.parent)
    assert hebrew.returncode == 0 and "אילו מודלים מדברים" in hebrew.stdout


def test_churn_insight_and_customer_state_the_same_money_at_stake(workspace: Path) -> None:
    # `salesradar demo` (the fixture) scored the models and stored the insights
    insights = as_json("insights", "--kind", "churn_risk", workspace=workspace)
    assert insights, "the demo company should have churn-risk insights"
    for insight in insights[:3]:
        customer_id = insight["subject_id"]
        view = as_json("customer", customer_id, workspace=workspace)
        value = view["churn_risk"]["value_at_stake"]
        assert insight["evidence"]["value_at_stake"] == pytest.approx(value)
        assert insight["value_at_stake"] == pytest.approx(value, abs=0.01)
        # and both texts print it the same way (a lost customer: what it bought before it stopped)
        said = re.search(r"; (?:bought )?(₪\S+) (?:at stake|\(net\))", insight["en"]["why"])
        assert said and f"{said.group(1)} at stake" in view["why"][0], (insight, view["why"])
