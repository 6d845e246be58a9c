"""The cross-sell model on the refit schedule: fitted once a week, applied to each day's
purchases (a SKU bought, even after the fit, is never offered), saved with the models."""

from __future__ import annotations

import copy
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
    base,
    recommend_for,
)
from salesradar.models.crosssell.base import _CrossSellBase
from salesradar.models.crosssell.recommenders import _Deferred
from salesradar.models.store import fitted_record, load_recent, refit_due
from salesradar.workspace import Workspace

from .crosssell_helpers import (
    DAY,
    KeptItemItem,
    KeptPopularity,
    blend_of_parts,
    insert_lines,
    taste_groups,
)

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
        insert_lines(ws, _purchases(), "I")
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
    insert_lines(fitted_ws,
                 [("C000", first, later), ("C999", "S00", later), ("C001", "NEW", later)], "N")
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
    insert_lines(ws, [("C000", "S00", later), ("C002", "S01", later)], "N")
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


# ------------------------------------------------------------- a later day from the candidates
def _a_later_day(data: pa.Table, offers: pa.Table) -> pa.Table:
    """The purchases of a later day: every third customer bought its first offers (one to
    six of them), every fifth some SKU of another group; every 40th no longer owns its first
    SKU (its lines deleted)."""
    rng = np.random.default_rng(1)
    customers = pc.unique(data["customer_id"]).to_pylist()
    deleted = {(c, data.filter(pc.equal(data["customer_id"], c))["sku"][0].as_py())
               for c in customers[::40]}
    kept = [(c, s) for c, s in zip(data["customer_id"].to_pylist(), data["sku"].to_pylist(),
                                   strict=True) if (c, s) not in deleted]
    by_customer = _offers(offers)
    bought = [(c, s) for c in customers[::3] for s in by_customer.get(c, [])[
        :int(rng.integers(1, 7))]]
    bought += [(c, f"S{int(rng.integers(0, 300)):03d}") for c in customers[::5]]
    rows = kept + bought
    return pa.table({"customer_id": [r[0] for r in rows], "sku": [r[1] for r in rows]})


@pytest.mark.parametrize("keep", [16, 9])
@pytest.mark.parametrize("make", [blend_of_parts, KeptItemItem, KeptPopularity],
                         ids=lambda f: f.__name__)
def test_a_later_day_from_the_candidates_is_a_ranking_anew(
    make: Callable[[], _CrossSellBase], keep: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The offers of a later day picked from the candidates kept by the fit's ranking are
    those of the whole ranking done again (the code before the candidates): SKUs bought
    since, discontinued since, own SKUs no longer owned, ties; with a narrow margin (9
    candidates for 7 offers) many customers are ranked again, in their batches."""
    monkeypatch.setattr(base, "_CANDIDATES", keep)
    monkeypatch.setattr(base, "_BATCH", 8)  # customers ranked again: those of a few batches
    reranked: list[int] = []
    dense = _CrossSellBase._dense_top_n

    def counted(self: _CrossSellBase, rows: np.ndarray, *args: object) -> object:
        reranked.append(len(rows))
        return dense(self, rows, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(_CrossSellBase, "_dense_top_n", counted)
    data = taste_groups()
    model = make().fit(data, discontinued=["S000"])
    at_fit = model.recommend(None, 7)
    assert model.candidates_ is not None
    assert model.candidates_["items"].shape == (400, keep)
    plain = copy.copy(model)  # the same fitted model ranking every customer anew
    plain.candidates_ = None
    plain._keeps_candidates = False
    assert at_fit.equals(plain.recommend(None, 7))

    purchases = _a_later_day(data, at_fit)
    never = ["S001", at_fit["sku"][0].as_py()]
    reranked.clear()
    day = model.with_purchases(purchases, never=never).recommend(None, 7)
    assert day.equals(plain.with_purchases(purchases, never=never).recommend(None, 7))
    assert day.num_rows > 0
    # the batches of the customers who no longer own an own SKU of the fit, at least, ranked
    # again; with 9 candidates to spare, not all (popularity: ties everywhere, all)
    assert len(reranked) == 2 and reranked[0] >= 40
    assert reranked[0] < 400 or keep < 16 or make is KeptPopularity
    # the candidates serve every later day, pickled with the model
    again = pickle.loads(pickle.dumps(model)).with_purchases(purchases, never=never)
    assert again.recommend(None, 7).equals(day)


def test_the_saved_blend_leaves_out_what_it_makes_again(fitted_ws: Workspace) -> None:
    """The pickle holds no SKU x SKU co-buyers (made again from the fit's pattern) and the
    ``implicit`` model as a deferred object (built on first use); a blend saved before (the
    co-buyers in float32 inside, no candidates) gives the same offers."""
    model = _blend()
    fresh = recommend_for(fitted_ws, n=10, as_of=DAY, model=model)
    loaded = pickle.loads(pickle.dumps(model))
    assert "_co_buyers_cache" not in vars(loaded)
    assert isinstance(vars(loaded.als_)["model_"], _Deferred)
    assert recommend_for(fitted_ws, n=10, as_of=DAY, fitted=loaded).equals(fresh)
    built = loaded.als_.model_
    assert type(built) is type(model.als_.model_)
    assert np.array_equal(built.item_factors, model.als_.model_.item_factors)
    assert loaded._co_buyers().dtype == np.uint16
    # the co-buyers by hand: customers who bought both
    own = model.binary_.toarray()
    assert np.array_equal(loaded._co_buyers(), own.T @ own)

    older = object.__new__(BlendRecommender)  # as unpickling a blend of the format before
    older.__dict__.update({k: v for k, v in vars(model).items() if k != "candidates_"})
    older._co_buyers_cache = (own.T @ own).astype(np.float32)
    assert recommend_for(fitted_ws, n=10, as_of=DAY, fitted=older).equals(fresh)


def test_refit_due_says_whether_the_saved_model_serves_the_day(fitted_ws: Workspace) -> None:
    """What the refresh asks before importing the fitting libraries: a fit is due with no
    saved model, not on the days the saved one serves (same horizon, within 6 days and 5% of
    its lines), again on the seventh day, for another horizon or after more than 5% new lines."""
    ws = fitted_ws
    assert refit_due(ws, "cross_sell", DAY, 0)  # nothing saved yet
    scoring._score_cross_sell(ws, DAY, True)
    assert not refit_due(ws, "cross_sell", DAY, 0)
    assert not refit_due(ws, "cross_sell", DAY + dt.timedelta(days=6), 0)
    assert refit_due(ws, "cross_sell", DAY + dt.timedelta(days=7), 0)
    assert refit_due(ws, "cross_sell", DAY, 90)
    assert refit_due(ws, "churn", DAY, 0)  # another model: none saved
    count = ws.con.execute("SELECT count(*) FROM invoice_lines").fetchone()
    assert count is not None
    more = int(count[0]) // 20 + 1  # just over 5% more lines
    insert_lines(ws, [("C000", "S00", DAY)] * more, "M")
    assert refit_due(ws, "cross_sell", DAY, 0)
