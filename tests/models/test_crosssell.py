"""Cross-sell recommenders: one shared contract test, hand-computed reasons, the backtest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp  # type: ignore[import-untyped, unused-ignore]

from salesradar.errors import UserInputError
from salesradar.models.base import NotFittedError
from salesradar.models.crosssell import (
    ALSRecommender,
    BlendRecommender,
    ItemItemRecommender,
    PopularityRecommender,
    backtest,
    interactions_from_lines,
    recommend_for,
)
from salesradar.models.crosssell.base import (
    _CrossSellBase,
    _group_median,
    _segments,
    _top_k,
)
from salesradar.models.crosssell.recommenders import _rescale, _sparse_row_range
from salesradar.models.crosssell.service import _ranking_metrics
from salesradar.workspace import Workspace

END = dt.date(2026, 10, 31)


def clustered(seed: int = 0, customers: int = 60) -> pa.Table:
    """Two taste groups: even customers buy from A..F, odd ones from P..U (4 of 6 each)."""
    rng = np.random.default_rng(seed)
    groups = [list("ABCDEF"), list("PQRSTU")]
    cust, sku = [], []
    for c in range(customers):
        own = rng.choice(groups[c % 2], size=4, replace=False)
        cust += [f"C{c:03d}"] * 4
        sku += list(own)
    n = len(cust)
    return pa.table({
        "customer_id": cust,
        "sku": sku,
        "purchases": rng.integers(1, 5, n).astype(float),
        "revenue": rng.gamma(2.0, 100.0, n),
        "first_date": [dt.date(2026, 1, 1)] * n,
        "last_date": [END - dt.timedelta(days=int(d)) for d in rng.integers(0, 60, n)],
    })


MODELS: list[type[_CrossSellBase]] = [
    ALSRecommender, ItemItemRecommender, BlendRecommender, PopularityRecommender
]


def make(cls: type[_CrossSellBase], **kwargs: object) -> _CrossSellBase:
    if cls is ALSRecommender:
        kwargs.setdefault("factors", 4)
        kwargs.setdefault("num_threads", 1)
    if cls is BlendRecommender:
        small = {k: v for k, v in kwargs.items() if k == "recent_days"}
        kwargs.setdefault("als", ALSRecommender(factors=4, num_threads=1, **small))  # type: ignore[arg-type]
        kwargs.setdefault("item_item", ItemItemRecommender(**small))  # type: ignore[arg-type]
    return cls(**kwargs)  # type: ignore[arg-type]


def pairs(table: pa.Table) -> set[tuple[str, str]]:
    return set(zip(table["customer_id"].to_pylist(), table["sku"].to_pylist(), strict=True))


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
class TestContract:
    """Every recommender honours the same contract (cf. implicit's recommender_base_test)."""

    def test_shape_and_ranks(self, cls: type[_CrossSellBase]) -> None:
        recs = make(cls).fit(clustered()).recommend(["C000", "C001"], n=2)
        assert recs.column_names == [
            "customer_id", "sku", "score", "rank", "reason", "expected_value", "anchor_sku",
            "anchor_buyers", "co_buyers", "sku_buyers", "year_buyers", "customers",
        ]
        assert recs["customer_id"].to_pylist() == ["C000", "C000", "C001", "C001"]
        assert recs["rank"].to_pylist() == [1, 2, 1, 2]
        scores = recs["score"].to_numpy()
        assert np.isfinite(scores).all()
        assert scores[0] >= scores[1] and scores[2] >= scores[3]
        assert all(r for r in recs["reason"].to_pylist())

    def test_filter_already_bought(self, cls: type[_CrossSellBase]) -> None:
        data = clustered()
        model = make(cls).fit(data)
        recs = model.recommend(None, n=10)
        assert not pairs(recs) & pairs(data)
        # each customer owns 4 of its group's 6 SKUs: 12 - 4 SKUs remain to recommend
        assert set(np.bincount(np.unique(recs["customer_id"].to_numpy(zero_copy_only=False),
                                         return_inverse=True)[1])) == {8}
        unfiltered = model.recommend(["C000"], n=12, filter_already_bought=False)
        assert pairs(unfiltered) & pairs(data)

    def test_unknown_ids_get_no_rows(self, cls: type[_CrossSellBase]) -> None:
        model = make(cls).fit(clustered())
        assert model.recommend(["nobody"], n=3).num_rows == 0
        mixed = model.recommend(["nobody", "C002"], n=3)
        assert set(mixed["customer_id"].to_pylist()) == {"C002"}

    def test_empty_row(self, cls: type[_CrossSellBase]) -> None:
        data = clustered()
        empty = pa.table({"customer_id": ["Z"], "sku": ["A"], "purchases": [0.0],
                          "revenue": [0.0], "first_date": [END], "last_date": [END]})
        model = make(cls).fit(pa.concat_tables([data, empty]))
        recs = model.recommend(["Z"], n=3)
        assert recs.num_rows == 3
        assert np.isfinite(recs["score"].to_numpy()).all()
        # nothing known about Z: the most popular SKUs, most popular first
        buyers = dict(zip(*np.unique(data["sku"].to_numpy(zero_copy_only=False),
                                     return_counts=True), strict=True))
        got = [buyers[s] for s in recs["sku"].to_pylist()]
        assert got == sorted(buyers.values(), reverse=True)[:3]

    def test_no_discontinued_or_stale_items(self, cls: type[_CrossSellBase]) -> None:
        data = clustered()
        stale = pa.table({
            "customer_id": ["C000", "C002", "C004", "C006", "C008"],
            "sku": ["OLD"] * 5, "purchases": [9.0] * 5, "revenue": [1.0] * 5,
            "first_date": [dt.date(2026, 1, 1)] * 5, "last_date": [dt.date(2026, 2, 1)] * 5,
        })
        model = make(cls).fit(pa.concat_tables([data, stale]), discontinued=["A", "P"])
        skus = set(model.recommend(None, n=10)["sku"].to_pylist())
        assert not skus & {"A", "P", "OLD"}
        assert make(cls, recent_days=None).fit(
            pa.concat_tables([data, stale])
        ).recommend(None, n=10)["sku"].to_pylist().count("OLD") > 0

    def test_deterministic_for_a_seed(self, cls: type[_CrossSellBase]) -> None:
        first = make(cls).fit(clustered()).recommend(None, n=5)
        second = make(cls).fit(clustered()).recommend(None, n=5)
        assert first.equals(second)

    def test_n_larger_than_catalogue(self, cls: type[_CrossSellBase]) -> None:
        recs = make(cls).fit(clustered()).recommend(["C000"], n=100)
        assert recs.num_rows == 8

    def test_not_fitted_and_bad_input(self, cls: type[_CrossSellBase]) -> None:
        with pytest.raises(NotFittedError):
            make(cls).recommend(["C000"])
        with pytest.raises(UserInputError, match="sku"):
            make(cls).fit(pa.table({"customer_id": ["a"]}))
        with pytest.raises(UserInputError, match="no interactions"):
            make(cls).fit(pa.table({"customer_id": pa.array([], pa.string()),
                                    "sku": pa.array([], pa.string())}))
        with pytest.raises(UserInputError, match="n must be"):
            make(cls).fit(clustered()).recommend(["C000"], n=0)


@pytest.mark.parametrize("cls", [ALSRecommender, ItemItemRecommender, BlendRecommender],
                         ids=lambda c: c.__name__)
def test_look_alikes_win(cls: type[_CrossSellBase]) -> None:
    """A customer of the A..F group gets its group's missing SKUs first."""
    recs = make(cls).fit(clustered()).recommend(["C000", "C001"], n=2)
    got = dict(zip(recs["customer_id"].to_pylist(), recs["sku"].to_pylist(), strict=False))
    assert got["C000"] in set("ABCDEF")
    assert got["C001"] in set("PQRSTU")


def test_reason_and_expected_value_by_hand() -> None:
    """Five buyers of A, four of them also buy C; one buyer of B."""
    t = pa.table({
        "customer_id": ["1", "2", "3", "4", "5", "1", "2", "3", "4", "9", "9"],
        "sku": ["A", "A", "A", "A", "A", "C", "C", "C", "C", "B", "D"],
        "purchases": [1.0] * 11,
        "revenue": [10.0] * 5 + [100.0, 200.0, 300.0, 1000.0] + [5.0, 5.0],
        "first_date": [dt.date(2026, 1, 1)] * 11,
        "last_date": [dt.date(2026, 12, 31)] * 11,  # 365 days observed
    })
    model = PopularityRecommender(min_support=5).fit(t)
    recs = model.recommend(["5", "9"], n=1)
    row = recs.to_pylist()
    assert row[0]["sku"] == "C"
    # C's buyers spent 100, 200, 300, 1000 in the 365 days observed: median (200 + 300) / 2
    assert row[0]["expected_value"] == pytest.approx(250.0)
    assert row[0]["reason"] == (
        "4 of the 5 customers who buy A also buy C; its 4 buyers of the last year spent a "
        "median 250 on it"
    )  # every number is a column of the row, for the truth audit's claims
    assert (row[0]["anchor_sku"], row[0]["anchor_buyers"], row[0]["co_buyers"],
            row[0]["year_buyers"]) == ("A", 5, 4, 4)
    # customer 9's SKUs have one buyer each (< min_support): the popularity sentence
    assert row[1]["sku"] == "A"
    assert row[1]["reason"].startswith("bought by 5 of the 6 customers")
    assert (row[1]["anchor_sku"], row[1]["sku_buyers"], row[1]["customers"]) == (None, 5, 6)


def test_group_median() -> None:
    groups = np.array([2, 0, 2, 2, 0])
    values = np.array([3.0, 1.0, 1.0, 2.0, 5.0])
    assert _group_median(groups, values, 4).tolist() == [3.0, 0.0, 2.0, 0.0]


def test_ranking_metrics_by_hand() -> None:
    recs = pa.table({"customer_id": ["a", "a", "b", "b"], "sku": ["x", "y", "x", "y"],
                     "rank": [1, 2, 1, 2]})
    truth = pa.table({"customer_id": ["a", "b", "b", "b"], "sku": ["y", "z", "w", "v"]})
    precision, recall, ndcg, n = _ranking_metrics(recs, truth, 2)
    assert n == 2
    assert precision == pytest.approx((1 / 2 + 0) / 2)
    assert recall == pytest.approx((1 + 0) / 2)
    # a: hit at rank 2 -> 1/log2(3); ideal: one hit at rank 1 -> 1
    assert ndcg == pytest.approx((1 / np.log2(3)) / 2)


def _lines(data: pa.Table, start: dt.date, days: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = data.num_rows
    return pa.table({
        "invoice_id": [f"I{seed}-{i}" for i in range(n)],
        "line_no": [1] * n,
        "invoice_date": [start + dt.timedelta(days=int(d)) for d in rng.integers(0, days, n)],
        "customer_id": data["customer_id"],
        "sku": data["sku"],
        "quantity": [1.0] * n,
        "net_revenue": data["revenue"],
    })


def test_backtest_beats_popularity_on_clustered_data() -> None:
    before = _lines(clustered(seed=1, customers=200), dt.date(2026, 1, 1), 200, 1)
    after = _lines(clustered(seed=2, customers=200), dt.date(2026, 8, 1), 60, 2)
    lines = ibis.memtable(pa.concat_tables([before, after]))
    metrics = backtest(lines, dt.date(2026, 8, 1), 90, k=3,
                       models=[ALSRecommender(factors=4, num_threads=1), ItemItemRecommender()])
    assert [(m.model, m.metric) for m in metrics] == [
        (f"cross_sell_{name}", f"{metric}_at_3")
        for name in ("als", "item_item") for metric in ("precision", "recall", "ndcg")
    ]
    for m in metrics:
        assert m.value is not None and m.baseline_value is not None
        assert 0.0 <= m.value <= 1.0
        assert m.n > 50
        assert m.beats_baseline, m


def test_interactions_from_lines_ignore_returns() -> None:
    lines = ibis.memtable(pa.table({
        "customer_id": ["a", "a", "a", "b"],
        "sku": ["x", "x", "y", "x"],
        "invoice_date": [dt.date(2026, 1, 1), dt.date(2026, 1, 5), dt.date(2026, 1, 6),
                         dt.date(2026, 2, 1)],
        "quantity": [1.0, 2.0, -1.0, 1.0],
        "net_revenue": [10.0, 20.0, -5.0, 10.0],
    }))
    t = interactions_from_lines(lines, end=dt.date(2026, 2, 1)).to_pylist()
    assert t == [{"customer_id": "a", "sku": "x", "purchases": 2.0, "revenue": 30.0,
                  "first_date": dt.date(2026, 1, 1), "last_date": dt.date(2026, 1, 5),
                  "revenue_365": 30.0}]


def test_yearly_value_is_the_last_year_never_scaled_up() -> None:
    """Two years of data: only the last 365 days count; half a year counts as it is."""
    lines = ibis.memtable(pa.table({
        "customer_id": ["a", "a", "b", "c"],
        "sku": ["x", "x", "x", "x"],
        "invoice_date": [dt.date(2025, 1, 10), dt.date(2026, 6, 1), dt.date(2026, 12, 1),
                         dt.date(2026, 12, 30)],
        "quantity": [1.0, 1.0, 1.0, 1.0],
        "net_revenue": [1000.0, 40.0, 60.0, 90.0],
    }))
    t = interactions_from_lines(lines)  # the last day is 2026-12-30: the year from 2025-12-31
    assert dict(zip(t["customer_id"].to_pylist(), t["revenue_365"].to_pylist(),
                    strict=True)) == {"a": 40.0, "b": 60.0, "c": 90.0}
    model = PopularityRecommender(min_support=1).fit(t)
    assert model.expected_value_.tolist() == [60.0]  # median of 40, 60, 90


def test_recommend_for_workspace(ws: Workspace) -> None:
    data = clustered()
    lines = _lines(data, dt.date(2026, 8, 1), 60, 3)
    ws.con.register("new_lines", lines)
    ws.con.execute(
        "INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, sku, "
        "quantity, net_revenue) SELECT * FROM new_lines"
    )
    ws.con.execute(
        "INSERT INTO products (sku, name, active) VALUES ('B', 'Bolt', true), "
        "('C', 'Clamp', false)"
    )
    recs = recommend_for(ws, ["C000", "C002", "C004"], n=6, model=ItemItemRecommender())
    assert recs.num_rows == 3 * 6
    assert "C" not in recs["sku"].to_pylist()
    names = set(zip(recs["sku"].to_pylist(), recs["name"].to_pylist(), strict=True))
    assert ("B", "Bolt") in names
    assert {name for sku, name in names if sku != "B"} == {None}
    default = recommend_for(ws, ["C000"], n=2)  # the blend of ALS and item-item
    assert default["rank"].to_pylist() == [1, 2]
    assert "C" not in default["sku"].to_pylist()


def test_an_item_bought_on_the_day_scored_is_never_offered(ws: Workspace) -> None:
    # A and B go together for four customers; C9 bought A long ago and B on the day scored:
    # scored as of that day, B is not something to offer it
    day = dt.date(2026, 3, 1)
    rows = [(f"C{k}", sku, day - dt.timedelta(days=30)) for k in range(4) for sku in "AB"]
    rows += [("C9", "A", day - dt.timedelta(days=30)), ("C9", "B", day)]
    for i, (customer, sku, when) in enumerate(rows):
        ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, "
                       "customer_id, sku, quantity, net_revenue) VALUES (?, 1, ?, ?, ?, 1, 10)",
                       [f"I{i}", when, customer, sku])
    offers = recommend_for(ws, ["C9"], n=5, as_of=day, model=ItemItemRecommender(min_support=1))
    assert "B" not in offers["sku"].to_pylist()


UCI = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "uci_online_retail"


@pytest.mark.slow
@pytest.mark.skipif(not (UCI / "online_retail.parquet").exists(), reason="UCI data not here")
def test_uci_online_retail_backtest(ws: Workspace) -> None:
    """ALS beats popularity on UCI Online Retail (full numbers: bench/bench_crosssell.py)."""
    from salesradar.io import import_file

    mapping = Path(__file__).resolve().parents[2] / "eval" / "mappings" / "uci_online_retail.yaml"
    import_file(ws, "invoice_lines", UCI / "online_retail.parquet", mapping)
    t = ws.table("invoice_lines")
    lines = t.filter(~t.invoice_id.startswith("C") & t.sku.re_search("^[0-9]"))
    metrics = backtest(lines, dt.date(2011, 9, 9), 90, models=[ALSRecommender()])
    precision = metrics[0]
    assert precision.metric == "precision_at_10"
    assert precision.value is not None and precision.value >= 0.09
    assert precision.beats_baseline


def test_yearly_value_is_net_of_returns() -> None:
    lines = ibis.memtable(pa.table({
        "customer_id": ["a", "a", "b", "b"],
        "sku": ["x", "x", "x", "x"],
        "invoice_date": [dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 1),
                         dt.date(2026, 3, 3)],
        "quantity": [10.0, -4.0, 1.0, -5.0],
        "net_revenue": [100.0, -40.0, 10.0, -50.0],
    }))
    t = interactions_from_lines(lines).to_pylist()
    # a: 100 sold, 40 credited; b: a 50 credit note against a 10 sale is floored at 0
    assert [(r["customer_id"], r["revenue"], r["revenue_365"]) for r in t] == [
        ("a", 100.0, 60.0), ("b", 10.0, 0.0)]


# ------------------------------------------------------------------ the ranking's fast paths
def _argpartition_top(values: np.ndarray, k: int, floor: float) -> list[set[int]]:
    """What the ranking kept before its fast path: argpartition's top k, above ``floor``."""
    part = np.argpartition(-values, k - 1, axis=1)[:, :k]
    chosen = np.take_along_axis(values, part, axis=1)
    return [set(p[c > floor].tolist()) for p, c in zip(part, chosen, strict=True)]


@pytest.mark.parametrize("floor", [-np.inf, 0.0])
def test_top_k_picks_what_argpartition_picks(floor: float) -> None:
    """Ties at the k-th value (argpartition's own choice), -inf, NaN, rows with fewer than k
    values above the floor, few columns and many."""
    rng = np.random.default_rng(0)
    for n_cols, k in [(5, 3), (40, 10), (700, 10), (2000, 20), (3000, 1)]:
        values = rng.random((60, n_cols))
        values[:10] = np.round(values[:10] * 4) / 4  # heavy ties
        values[10:20] = np.round(values[10:20] * 50) / 50
        values[20:25] = 0.0  # nothing above a floor of 0
        values[25:30, : n_cols // 2] = -np.inf
        values[30:35, rng.integers(0, n_cols, 3)] = np.nan
        values[35:40] = -np.inf
        values[40:45, :] = -np.inf
        values[40:45, rng.integers(0, n_cols, 2)] = 1.0  # fewer than k candidates
        values[45:50, :] = rng.random((5, n_cols)) * 1e-9 + 0.5  # near-ties
        picked = _top_k(values, k, floor)
        assert picked.shape == (60, k)
        got = [set(p[p >= 0].tolist()) for p in picked]
        assert got == _argpartition_top(values, k, floor)
        # largest first, then the smaller column
        for row, p in zip(values, picked, strict=True):
            kept = p[p >= 0]
            assert list(kept) == sorted(kept, key=lambda c: (-row[c], c))


def test_segments() -> None:
    starts = np.array([3, 0, 7, 7, 2])
    ends = np.array([5, 0, 9, 7, 3])
    assert _segments(starts, ends).tolist() == [3, 4, 7, 8, 2]
    assert _segments(np.array([4]), np.array([4])).tolist() == []


def test_sparse_row_range() -> None:
    dense = np.array([[0.0, 2.0, 3.0], [1.0, 4.0, 5.0], [0.0, 0.0, 0.0], [-1.0, 0.0, 2.0]])
    low, high = _sparse_row_range(sp.csr_matrix(dense))
    assert low.tolist() == dense.min(axis=1).tolist()
    assert high.tolist() == dense.max(axis=1).tolist()


def _reference_top_n(model: _CrossSellBase, rows: np.ndarray, n: int,
                     filter_bought: bool) -> tuple[np.ndarray, np.ndarray]:
    """The ranking as it was written first: every score dense, argpartition per row."""
    k = min(n, len(model.skus_))
    scores = np.asarray(model._scores(rows), dtype=np.float64)
    scores[:, ~model.eligible_] = -np.inf
    if filter_bought:
        bought = model.binary_[rows].tocoo()
        scores[bought.row, bought.col] = -np.inf
    ranking = scores + 1e-9 * model.buyers_ / max(float(model.buyers_.max()), 1.0)
    part = np.argpartition(-ranking, k - 1, axis=1)[:, :k] if k < len(model.skus_) else \
        np.tile(np.arange(len(model.skus_)), (len(rows), 1))
    values = np.take_along_axis(scores, part, axis=1)
    part[~np.isfinite(values)] = -1
    return part, values


@pytest.mark.parametrize("cls", [ItemItemRecommender, BlendRecommender, PopularityRecommender],
                         ids=lambda c: c.__name__)
def test_fast_ranking_equals_the_reference(cls: type[_CrossSellBase]) -> None:
    """The same offers and scores as dense scores ranked by a full argpartition (popularity:
    many ties among equally popular SKUs)."""
    rng = np.random.default_rng(5)
    customer = np.repeat(np.arange(400), 12)
    sku = (customer % 3) * 100 + rng.integers(0, 100, len(customer))  # three taste groups
    n = len(customer)
    data = pa.table({
        "customer_id": [f"C{c:03d}" for c in customer],
        "sku": [f"S{k:03d}" for k in sku],
        "purchases": rng.integers(1, 4, n).astype(float),
        "revenue": rng.gamma(2.0, 100.0, n),
        "first_date": [dt.date(2026, 1, 1)] * n,
        "last_date": [END - dt.timedelta(days=int(d)) for d in rng.integers(0, 120, n)],
    })
    model = make(cls).fit(data, discontinued=["S000", "S150"])
    rows = np.arange(0, len(model.customers_), 3)
    for filter_bought in (True, False):
        items, values = model._top_n(rows, 7, filter_bought)
        ref_items, ref_values = _reference_top_n(model, rows, 7, filter_bought)
        for got, want, got_v, want_v in zip(items, ref_items, values, ref_values, strict=True):
            assert dict(zip(got[got >= 0], got_v[got >= 0], strict=True)) == \
                dict(zip(want[want >= 0], want_v[want >= 0], strict=True))


def test_blend_scores_are_the_mean_of_the_rescaled_parts() -> None:
    """Computed in place and on the item-item entries only, bit for bit the formula."""
    model = BlendRecommender(als=ALSRecommender(factors=4, num_threads=1),
                             als_weight=0.3).fit(clustered())
    rows = np.arange(len(model.customers_))
    als = model.als_.customer_factors_[rows].astype(np.float64) @ \
        model.als_.sku_factors_.T.astype(np.float64)
    item = model.item_item_._scores(rows)
    want = 0.3 * _rescale(als) + (1.0 - 0.3) * _rescale(item)
    assert np.array_equal(model._scores(rows), want)


def test_blend_parts_fit_as_alone() -> None:
    """The blend reads the interactions once for both parts: each part is fitted as if alone."""
    data = clustered()
    blend = BlendRecommender(als=ALSRecommender(factors=4, num_threads=1)).fit(
        data, discontinued=["B"])
    als = ALSRecommender(factors=4, num_threads=1).fit(data, discontinued=["B"])
    item = ItemItemRecommender().fit(data, discontinued=["B"])
    assert np.array_equal(blend.als_.sku_factors_, als.sku_factors_)
    assert np.array_equal(blend.als_.customer_factors_, als.customer_factors_)
    assert (blend.item_item_.similarity_ != item.similarity_).nnz == 0
    for part, alone in ((blend.als_, als), (blend.item_item_, item)):
        assert np.array_equal(part.eligible_, alone.eligible_)
        assert (part.user_items_ != alone.user_items_).nnz == 0
        assert np.array_equal(part.expected_value_, alone.expected_value_)
