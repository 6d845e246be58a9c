"""Fitted models saved beside the workspace: written by score, read by the customer view."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from salesradar.models.churn import MODEL_FEATURES, ChurnModel
from salesradar.models.scoring import customer_view, score_workspace
from salesradar.models.store import data_version, load_latest, model_folder, save_model
from salesradar.workspace import Workspace

from .invoice_helpers import day, insert, simulated


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "company.duckdb"
    source = simulated(customers=300, days=540, seed=5)
    with Workspace.open(path) as ws:
        insert(ws, "invoice_lines", source.table("invoice_lines").to_pyarrow().to_pydict())
        score_workspace(ws, day(449))
    return path


def _no_refit(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the churn model was refitted")

    monkeypatch.setattr(ChurnModel, "fit", refuse)


def test_score_saves_the_churn_model(scored: Path) -> None:
    with Workspace.open(scored, read_only=True) as ws:
        folder = model_folder(ws)
        assert folder == Path(str(scored) + ".models")
        latest = json.loads((folder / "latest.json").read_text())["churn"]
        assert latest["as_of"] == "2026-03-26" and latest["horizon_days"] == 90  # day 449
        assert latest["data_version"] == data_version(ws)
        assert (folder / latest["file"]).exists()
        model = load_latest(ws, "churn")
        assert isinstance(model, ChurnModel) and model.cutoff_ == day(449)


def test_customer_view_explains_without_refitting(
    scored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Workspace.open(scored, read_only=True) as ws:
        top = ws.table("score_churn").limit(1).to_pyarrow().to_pylist()[0]
        _no_refit(monkeypatch)
        view = customer_view(ws, top["customer_id"])
    assert view["why"][0].startswith(("orders every ~", "ordered once"))
    assert " at stake: its net purchases" in view["why"][0] or "no net revenue" in view["why"][0]
    assert view["why_claims"] and "a quarter" not in view["why"][0]


def test_rescoring_the_same_data_reuses_the_model(
    scored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Workspace.open(scored) as ws:
        _no_refit(monkeypatch)
        summary = score_workspace(ws, day(449))
    assert summary.rows["score_churn"] > 0


def test_new_data_makes_the_saved_model_stale(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    source = simulated(customers=120, days=400, seed=2)
    with Workspace.open(path) as ws:
        insert(ws, "invoice_lines", source.table("invoice_lines").to_pyarrow().to_pydict())
        before = data_version(ws)
        assert data_version(ws) == before  # stable: exact integer cents
        score_workspace(ws, day(300))
        assert load_latest(ws, "churn") is not None
        insert(ws, "invoice_lines", {
            "invoice_id": ["NEW"], "line_no": [1], "invoice_date": [day(301)],
            "customer_id": ["C0"], "sku": ["S0"], "quantity": [1.0], "net_revenue": [10.0],
        })
        assert data_version(ws) != before
        assert load_latest(ws, "churn") is None  # the customer view then refits


def test_in_memory_workspaces_save_nothing() -> None:
    assert model_folder(simulated(customers=10, days=60, seed=1)) is None


def test_a_model_fitted_on_other_features_is_refitted(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    source = simulated(customers=120, days=400, seed=3)
    with Workspace.open(path) as ws:
        insert(ws, "invoice_lines", source.table("invoice_lines").to_pyarrow().to_pydict())
        score_workspace(ws, day(300))
        old = load_latest(ws, "churn")
        assert isinstance(old, ChurnModel) and old.features_ == MODEL_FEATURES
        old.features_ = ("a feature list of older code",)
        save_model(ws, "churn", old, day(300), 90)
        score_workspace(ws, day(300), reuse=False)  # the same data: scored anew, not kept
        new = load_latest(ws, "churn")
        assert isinstance(new, ChurnModel) and new.features_ == MODEL_FEATURES
        # a file this code cannot read (e.g. written by another version) is not an error
        folder = model_folder(ws)
        assert folder is not None
        for saved in folder.glob("churn-*.pkl"):
            saved.write_bytes(b"not a pickle")
        assert load_latest(ws, "churn") is None


def test_customer_view_in_hebrew(scored: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Workspace.open(scored, read_only=True) as ws:
        top = ws.table("score_churn").limit(1).to_pyarrow().to_pylist()[0]
        _no_refit(monkeypatch)
        en = customer_view(ws, top["customer_id"])
        he = customer_view(ws, top["customer_id"], lang="he")
    hebrew = re.compile(r"[\u05d0-\u05ea]")
    assert en["churn_risk"]["reasons"] == top["reasons"]
    assert len(he["churn_risk"]["reasons"]) == len(top["reasons"])
    assert all(hebrew.search(r) for r in he["churn_risk"]["reasons"])
    for key in ("tier_name", "reason", "handling"):
        assert hebrew.search(he["tier"][key]) and not hebrew.search(en["tier"][key]), key
    health = he["health"]
    assert hebrew.search(health["explanation"]) and hebrew.search(health["weakest_text"])
    assert not hebrew.search(en["health"]["weakest_text"])


def test_a_new_day_is_scored_with_the_model_of_the_week(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refit schedule: a model fitted (and a gate decided) on day D serves D to D + 6 while
    the invoice lines change by at most 5%; a week later, a larger change or --full refit."""
    import pyarrow.compute as pc

    from salesradar.models import gates

    path = tmp_path / "w.duckdb"
    lines = simulated(customers=300, days=540, seed=5).table("invoice_lines").to_pyarrow()
    fits: list[object] = []  # the days fitted at (the gates' and the model's, side by side)
    real_fit = ChurnModel.fit

    def counted(self: ChurnModel, *args: object, **kwargs: object) -> ChurnModel:
        fits.append(args[-1])
        return real_fit(self, *args, **kwargs)  # type: ignore[arg-type]

    def one_line(n: int, name: str) -> dict[str, list[object]]:
        return {"invoice_id": [name], "line_no": [1], "invoice_date": [day(n)],
                "customer_id": ["C0"], "sku": ["S0"], "quantity": [1.0], "net_revenue": [10.0]}

    def entry(ws: Workspace) -> dict[str, object]:
        folder = model_folder(ws)
        assert folder is not None
        return dict(json.loads((folder / "latest.json").read_text())["churn"])

    monkeypatch.setattr(ChurnModel, "fit", counted)
    with Workspace.open(path) as ws:
        upto = lines.filter(pc.field("invoice_date") <= day(449))
        insert(ws, "invoice_lines", upto.to_pydict())
        score_workspace(ws, day(449))
        assert entry(ws)["fitted_on"] == day(449).isoformat()
        assert entry(ws)["fitted_lines"] == upto.num_rows
        decided = {g["model"]: g["as_of"] for g in gates.read_gates(ws)}
        fits.clear()

        # the next day, one more line: scored by the model of day 449, gates kept
        insert(ws, "invoice_lines", one_line(450, "NEW-1"))
        monkeypatch.setattr(gates, "compute_gates", lambda *a, **k: pytest.fail("re-gated"))
        summary = score_workspace(ws, day(450))
        assert fits == [] and not summary.reused
        assert entry(ws)["as_of"] == day(450).isoformat()
        assert entry(ws)["fitted_on"] == day(449).isoformat()
        assert {g["model"]: g["as_of"] for g in gates.read_gates(ws)} == decided
        scored = ws.con.execute("SELECT DISTINCT as_of FROM score_churn").fetchall()
        assert scored == [(day(450),)]
        assert load_latest(ws, "churn") is not None  # the explanations read today's model
        monkeypatch.undo()
        monkeypatch.setattr(ChurnModel, "fit", counted)

        # --full on that very data fits anew, though the model of the week was saved for it
        score_workspace(ws, day(450), reuse=False)
        assert sorted(fits) == [day(360), day(450)]
        assert entry(ws)["fitted_on"] == day(450).isoformat()
        fits.clear()

        # --full fits anew, even the next day
        insert(ws, "invoice_lines", one_line(451, "NEW-2"))
        score_workspace(ws, day(451), reuse=False)
        # (the gates' backtest fits its own model at day 451 - 90: counted too)
        assert sorted(fits) == [day(361), day(451)]
        assert entry(ws)["fitted_on"] == day(451).isoformat()

        # seven days after that fit: fitted again
        fits.clear()
        insert(ws, "invoice_lines", one_line(457, "NEW-3"))
        score_workspace(ws, day(457))
        assert fits == []  # day 457 is 6 days after 451
        insert(ws, "invoice_lines", one_line(458, "NEW-4"))
        score_workspace(ws, day(458))
        assert sorted(fits) == [day(368), day(458)]

        # more than 5% more lines: fitted again, the next day
        fits.clear()
        count = int(entry(ws)["fitted_lines"])  # type: ignore[call-overload]
        extra = count // 19 + 1
        insert(ws, "invoice_lines", {
            "invoice_id": [f"X{i}" for i in range(extra)], "line_no": [1] * extra,
            "invoice_date": [day(459)] * extra, "customer_id": ["C1"] * extra,
            "sku": ["S1"] * extra, "quantity": [1.0] * extra, "net_revenue": [5.0] * extra})
        score_workspace(ws, day(459))
        assert sorted(fits) == [day(369), day(459)]


def test_a_non_product_correction_makes_the_stored_scores_stale(tmp_path: Path) -> None:
    """The company marking a code as a fee changes what the models may offer: the next score
    of the same data computes again instead of keeping the stored scores."""
    from salesradar.models.non_product import set_non_product

    path = tmp_path / "w.duckdb"
    source = simulated(customers=120, days=400, seed=2)
    with Workspace.open(path) as ws:
        insert(ws, "invoice_lines", source.table("invoice_lines").to_pyarrow().to_pydict())
        assert score_workspace(ws, day(300)).reused is False
        assert score_workspace(ws, day(300)).reused is True  # nothing changed
        set_non_product(ws, "S0", True)
        again = score_workspace(ws, day(300))
        assert again.reused is False
        offered = ws.con.execute("SELECT count(*) FROM score_cross_sell WHERE sku = 'S0'")
        assert offered.fetchone() == (0,)
        assert score_workspace(ws, day(300)).reused is True
