"""The cross-sell model on the refit schedule: fitted once a week, applied to each day's
purchases (a SKU bought, even after the fit, is never offered), saved with the models."""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from salesradar.models import scoring
from salesradar.models.crosssell import (
    ALSRecommender,
    BlendRecommender,
    ItemItemRecommender,
    PopularityRecommender,
    recommend_for,
)
from salesradar.models.crosssell.base import _CrossSellBase
from salesradar.models.store import fitted_record, load_recent
from salesradar.workspace import Workspace

DAY = dt.date(2026, 3, 31)  # the day of the fit
SKUS = [f"S{k:02d}" for k in range(12)]


def _purchases(customers: int = 120, seed: int = 0) -> list[tuple[str, str, dt.date]]:
    """Two taste groups (even customers buy from S00..S05, odd ones from S06..S11), 4 SKUs
    each, once or twice, on days in the 80 days to DAY."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(customers):
        group = SKUS[:6] if c % 2 == 0 else SKUS[6:]
        for sku in rng.choice(group, size=4, replace=False):
            for _ in range(int(rng.integers(1, 3))):
                when = DAY - dt.timedelta(days=int(rng.integers(0, 80)))
                rows.append((f"C{c:03d}", str(sku), when))
    return rows


def _insert(ws: Workspace, rows: list[tuple[str, str, dt.date]], tag: str) -> None:
    n = len(rows)
    table = pa.table({
        "invoice_id": [f"{tag}{i}" for i in range(n)], "line_no": [1] * n,
        "invoice_date": pa.array([r[2] for r in rows], pa.date32()),
        "customer_id": [r[0] for r in rows], "sku": [r[1] for r in rows],
        "quantity": [1.0] * n, "net_revenue": [25.0 + i % 7 for i in range(n)],
    })
    ws.con.register("_staged", table)
    try:
        ws.con.execute("INSERT INTO invoice_lines BY NAME SELECT * FROM _staged")
    finally:
        ws.con.unregister("_staged")


def _blend() -> BlendRecommender:
    return BlendRecommender(als=ALSRecommender(factors=4, num_threads=1),
                            item_item=ItemItemRecommender())


def _offers(table: pa.Table) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for customer, sku in zip(table["customer_id"].to_pylist(), table["sku"].to_pylist(),
                             strict=True):
        out.setdefault(customer, []).append(sku)
    return out


def _fitted_on(ws: Workspace) -> object:
    record = fitted_record(ws, "cross_sell")
    assert record is not None
    return record["fitted_on"]


@pytest.fixture
def fitted_ws(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace file (the models are saved beside it) with the purchases to DAY."""
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        _insert(ws, _purchases(), "I")
        yield ws


@pytest.mark.parametrize("make", [_blend, ALSRecommender, ItemItemRecommender,
                                  PopularityRecommender], ids=lambda f: f.__name__)
def test_the_model_on_its_own_day_gives_the_offers_of_its_fit(
    fitted_ws: Workspace, make: Callable[[], _CrossSellBase]
) -> None:
    """Applied to the purchases it was fitted on, a kept model (even through a pickle)
    offers exactly what its fit offered: the same table, reasons and all."""
    model = make()
    fresh = recommend_for(fitted_ws, n=10, as_of=DAY, model=model)
    kept = pickle.loads(pickle.dumps(model))
    assert fresh.num_rows > 0
    assert recommend_for(fitted_ws, n=10, as_of=DAY, fitted=model).equals(fresh)
    assert recommend_for(fitted_ws, n=10, as_of=DAY, fitted=kept).equals(fresh)


def test_a_purchase_after_the_fit_is_never_offered(fitted_ws: Workspace) -> None:
    """The next day, the kept model scores every customer as at its fit, minus the SKUs
    bought since: the customer who bought its first offer gets the fit's next ones; the
    others keep their offers; a new customer and a new SKU are not known to it."""
    model = _blend()
    at_fit = _offers(recommend_for(fitted_ws, n=11, as_of=DAY, model=model))
    first = at_fit["C000"][0]
    later = DAY + dt.timedelta(days=1)
    _insert(fitted_ws, [("C000", first, later), ("C999", "S00", later), ("C001", "NEW", later)],
            "N")
    offers = recommend_for(fitted_ws, n=10, as_of=later, fitted=model)
    got = _offers(offers)
    assert got["C000"] == [s for s in at_fit["C000"] if s != first][:10]
    assert first not in got["C000"]
    assert all(got[c] == skus[:10] for c, skus in at_fit.items() if c != "C000")
    assert "C999" not in got  # a customer the fit did not see: no offers until the next fit
    assert "NEW" not in pc.unique(offers["sku"]).to_pylist()
    # scored as at the fit: the same scores as the fit gave those SKUs
    before = recommend_for(fitted_ws, n=11, as_of=DAY, fitted=model)
    scores = {(c, s): v for c, s, v in zip(before["customer_id"].to_pylist(),
                                           before["sku"].to_pylist(),
                                           before["score"].to_pylist(), strict=True)}
    assert all(scores[(c, s)] == v for c, s, v in zip(
        offers["customer_id"].to_pylist(), offers["sku"].to_pylist(),
        offers["score"].to_pylist(), strict=True))
    # the day before is still scored as it was (the new lines are after it)
    assert _offers(recommend_for(fitted_ws, n=11, as_of=DAY, fitted=model)) == at_fit


def test_a_product_discontinued_after_the_fit_is_not_offered(fitted_ws: Workspace) -> None:
    model = _blend()
    at_fit = recommend_for(fitted_ws, n=10, as_of=DAY, model=model)
    gone = at_fit["sku"][0].as_py()
    fitted_ws.con.execute("INSERT INTO products (sku, active) VALUES (?, false)", [gone])
    offers = recommend_for(fitted_ws, n=10, as_of=DAY, fitted=model)
    assert gone not in offers["sku"].to_pylist()
    assert offers.num_rows > 0


def test_scoring_reuses_the_model_of_the_week(
    fitted_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_score_cross_sell`` fits and saves the blend on day D; on D + 1 it reuses the saved
    model (no fit), giving what the same model object handed to ``recommend_for`` gives;
    ``refit`` (--full) fits again, as does a day a week after the fit."""
    fits: list[int] = []
    real_fit = BlendRecommender.fit

    def counted(self: BlendRecommender, *args: object, **kwargs: object) -> BlendRecommender:
        fits.append(1)
        return real_fit(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(BlendRecommender, "fit", counted)
    ws = fitted_ws
    first = scoring._score_cross_sell(ws, DAY, True)
    assert fits == [1] and set(first["scored_by"].to_pylist()) == {"model"}
    record = fitted_record(ws, "cross_sell")
    assert record is not None and record["fitted_on"] == DAY.isoformat()
    saved = load_recent(ws, "cross_sell", DAY, 0, 10**9)
    assert saved is None  # more than 5% more lines than it was fitted on: not served

    later = DAY + dt.timedelta(days=1)
    _insert(ws, [("C000", "S00", later), ("C002", "S01", later)], "N")
    count = ws.con.execute("SELECT count(*) FROM invoice_lines").fetchone()
    assert count is not None
    lines = int(count[0])
    kept = load_recent(ws, "cross_sell", later, 0, lines)
    assert kept is not None
    fits.clear()
    reused = scoring._score_cross_sell(ws, later, True)
    assert fits == []
    direct = recommend_for(ws, n=10, as_of=later, fitted=kept[0]["model"])
    assert reused.drop_columns(["scored_by"]).equals(direct)
    assert _fitted_on(ws) == DAY.isoformat()

    # --full: fitted on the data to the day, the offers of a fit
    refit = scoring._score_cross_sell(ws, later, True, refit=True)
    assert fits == [1]
    fresh = recommend_for(ws, n=10, as_of=later, model=BlendRecommender())
    assert refit.drop_columns(["scored_by"]).equals(fresh)
    assert _fitted_on(ws) == later.isoformat()

    # served to the sixth day after the fit, fitted again on the seventh
    fits.clear()
    scoring._score_cross_sell(ws, later + dt.timedelta(days=6), True)
    assert fits == []
    scoring._score_cross_sell(ws, later + dt.timedelta(days=7), True)
    assert fits == [1]

    # the popularity rule is counted anew, and leaves the saved model alone
    fits.clear()
    rule = scoring._score_cross_sell(ws, later, False)
    assert fits == [] and set(rule["scored_by"].to_pylist()) == {"popularity"}
    scoring._score_cross_sell(ws, later + dt.timedelta(days=8), True)
    assert fits == []

    # a model saved by another version of the code is fitted again
    monkeypatch.setattr(scoring, "__version__", "another")
    scoring._score_cross_sell(ws, later + dt.timedelta(days=8), True)
    assert fits == [1]
