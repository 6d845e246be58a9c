"""A day of the kept cross-sell model ranks only the customers whose own SKUs changed, the
others' offers taken from the last day's (``recommend_for(..., kept_offers=...)``): always the
offers of a whole ranking done anew."""

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
    base,
    recommend_for,
)
from salesradar.models.crosssell.base import _CrossSellBase
from salesradar.models.crosssell.service import KEPT_OFFERS
from salesradar.models.store import model_folder
from salesradar.workspace import Workspace

from .crosssell_helpers import (
    DAY,
    KeptItemItem,
    KeptPopularity,
    blend_of_parts,
    insert_lines,
    taste_groups,
)


# ------------------------------------------------------------------ recommend_rows
def _als() -> ALSRecommender:
    return ALSRecommender(factors=8, num_threads=1)


def _later_purchases(data: pa.Table, offers: pa.Table) -> pa.Table:
    """A later day: every third customer bought its first two offers, every 40th no longer
    owns its first SKU (its lines deleted)."""
    pairs = list(zip(data["customer_id"].to_pylist(), data["sku"].to_pylist(), strict=True))
    customers = sorted({c for c, _ in pairs})
    first = {c: s for c, s in reversed(pairs)}
    gone = {(c, first[c]) for c in customers[::40]}
    kept = [p for p in pairs if p not in gone]
    offered: dict[str, list[str]] = {}
    for c, s in zip(offers["customer_id"].to_pylist(), offers["sku"].to_pylist(), strict=True):
        offered.setdefault(c, []).append(s)
    rows = kept + [(c, s) for c in customers[::3] for s in offered.get(c, [])[:2]]
    return pa.table({"customer_id": [r[0] for r in rows], "sku": [r[1] for r in rows]})


@pytest.mark.parametrize("keep", [16, 9])
@pytest.mark.parametrize("make", [blend_of_parts, KeptItemItem, KeptPopularity,
                                  ItemItemRecommender, _als], ids=lambda f: f.__name__)
def test_recommend_rows_gives_those_customers_what_a_whole_ranking_gives(
    make: Callable[[], _CrossSellBase], keep: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``recommend_rows`` of some customers: their rows of ``recommend`` of every customer, on
    the fit's day and on a later day (from the candidates, with customers ranked again in
    their batches; a SKU discontinued since: every customer ranked anew)."""
    monkeypatch.setattr(base, "_CANDIDATES", keep)
    monkeypatch.setattr(base, "_BATCH", 8)
    data = taste_groups()
    model = make().fit(data, discontinued=["S000"])
    at_fit = model.recommend(None, 7)
    model = pickle.loads(pickle.dumps(model))  # as saved
    purchases = _later_purchases(data, at_fit)
    rng = np.random.default_rng(3)
    for never in (["S001"], ["S001", at_fit["sku"][0].as_py()]):
        day = model.with_purchases(purchases, never=never)
        whole = day.recommend(None, 7)
        for rows in (np.arange(400), np.sort(rng.choice(400, 37, replace=False)),
                     np.array([0]), np.array([399]), np.zeros(0, dtype=np.int64)):
            wanted = day.customers_.take(pa.array(rows, pa.int64()))
            expected = whole.filter(pc.is_in(whole["customer_id"], value_set=wanted))
            assert day.recommend_rows(rows, 7).equals(expected)


def test_the_fit_digest_is_the_models_and_changes_with_it() -> None:
    data = taste_groups()
    model = blend_of_parts().fit(data)
    model.recommend(None, 7)  # keeps its candidates
    digest = model.fit_digest()
    assert digest is not None and len(digest) == 64
    assert pickle.loads(pickle.dumps(model)).fit_digest() == digest
    assert model.with_purchases(data).fit_digest() != digest  # other own SKUs
    again = blend_of_parts().fit(taste_groups(seed=6))
    again.recommend(None, 7)
    assert again.fit_digest() != digest
    other = blend_of_parts().fit(data)
    other.min_support = 6
    other.recommend(None, 7)
    assert other.fit_digest() != digest


# ------------------------------------------------------------ recommend_for(kept_offers=...)

def _history(customers: int = 300, seed: int = 0) -> list[tuple[str, str, dt.date]]:
    """Three taste groups of 15 SKUs, 5 SKUs each customer, on days in the 80 days to DAY."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(customers):
        group = [f"S{(c % 3) * 15 + k:02d}" for k in range(15)]
        for sku in rng.choice(group, size=5, replace=False):
            for _ in range(int(rng.integers(1, 3))):
                rows.append((f"C{c:03d}", str(sku),
                             DAY - dt.timedelta(days=int(rng.integers(0, 80)))))
    return rows


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Workspace.open(tmp_path / "w.duckdb") as opened:
        insert_lines(opened, _history(), "I")
        yield opened


def _owned(ws: Workspace, customer: str) -> list[str]:
    return [r[0] for r in ws.con.execute(
        "SELECT DISTINCT sku FROM invoice_lines WHERE customer_id = ? ORDER BY sku",
        [customer]).fetchall()]


def test_a_day_ranks_only_the_customers_whose_purchases_changed(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Day after day, the offers with ``kept_offers`` are those of a whole ranking done anew
    (``recommend_for`` without it): lines added, edited and deleted, a new customer; only the
    customers whose own SKUs changed are ranked, unless the eligible SKUs changed (a SKU
    discontinued in between), the model or ``n`` did, or the file is not readable."""
    monkeypatch.setattr(base, "_BATCH", 16)  # customers ranked again: those of a few batches
    ranked: list[list[str] | None] = []
    real_recommend, real_rows = _CrossSellBase.recommend, _CrossSellBase.recommend_rows

    def whole(self: _CrossSellBase, customer_ids: object = None, n: int = 10,
              filter_already_bought: bool = True) -> pa.Table:
        ranked.append(None)
        return real_recommend(self, customer_ids, n, filter_already_bought)

    def some(self: _CrossSellBase, rows: np.ndarray, n: int = 10) -> pa.Table:
        ranked.append(self.customers_.take(pa.array(rows, pa.int64())).to_pylist())
        return real_rows(self, rows, n)

    model = BlendRecommender(als=ALSRecommender(factors=4, num_threads=1))
    recommend_for(ws, n=10, as_of=DAY, model=model)  # fits it
    kept = pickle.loads(pickle.dumps(model))
    path = tmp_path / KEPT_OFFERS
    monkeypatch.setattr(_CrossSellBase, "recommend", whole)
    monkeypatch.setattr(_CrossSellBase, "recommend_rows", some)

    def day(when: dt.date, n: int = 10, fitted: _CrossSellBase = kept) -> pa.Table:
        ranked.clear()
        offers = recommend_for(ws, n=n, as_of=when, fitted=fitted, kept_offers=path)
        got = list(ranked)
        ranked.clear()
        fresh = recommend_for(ws, n=n, as_of=when, fitted=fitted)  # ranked anew
        assert offers.equals(fresh)
        assert offers.num_rows > 0
        ranked[:] = got
        return offers

    d1 = DAY + dt.timedelta(days=1)
    day(d1)
    assert ranked == [None]  # nothing kept yet: every customer
    assert path.exists()
    day(d1)
    assert ranked == [[]]  # the same purchases: nobody

    # added: C001 buys a SKU new to it (and C002 one it owns); edited: a line of C004 now
    # another SKU; deleted: all lines of one of C005's SKUs; a new customer
    d2 = d1 + dt.timedelta(days=1)
    new_sku = next(s for s in (f"S{k:02d}" for k in range(15, 30)) if s not in _owned(ws, "C001"))
    insert_lines(ws, [("C001", new_sku, d2), ("C002", _owned(ws, "C002")[0], d2),
                 ("C999", "S00", d2)], "N")
    edited = next(s for s in (f"S{k:02d}" for k in range(30, 45)) if s not in _owned(ws, "C004"))
    ws.con.execute("UPDATE invoice_lines SET sku = ? WHERE invoice_id = (SELECT min(invoice_id) "
                   "FROM invoice_lines WHERE customer_id = 'C004')", [edited])
    ws.con.execute("DELETE FROM invoice_lines WHERE customer_id = 'C005' AND sku = ?",
                   [_owned(ws, "C005")[0]])
    day(d2)
    changed = ranked[0]
    assert len(ranked) == 1 and changed is not None
    assert changed == ["C001", "C004", "C005"]
    day(d2)
    assert ranked == [[]]

    # a SKU discontinued in between: other eligible SKUs, every customer ranked
    offered = recommend_for(ws, n=10, as_of=d2, fitted=kept)["sku"][0].as_py()
    ws.con.execute("INSERT INTO products (sku, active) VALUES (?, false)", [offered])
    day(d2)
    assert ranked == [None]
    day(d2)
    assert ranked == [[]]
    # another n, another model: every customer
    day(d2, n=7)
    assert ranked == [None]
    day(d2, n=10)
    assert ranked == [None]
    other = BlendRecommender(als=ALSRecommender(factors=5, num_threads=1))
    other.fit(ws.table("invoice_lines").to_pyarrow().select(["customer_id", "sku"]))
    day(d2, fitted=other)
    assert ranked == [None]
    # a file that cannot be read: every customer
    day(d2)
    path.write_bytes(b"not arrow")
    day(d2)
    assert ranked == [None]


def test_scoring_keeps_the_days_offers_beside_the_models(ws: Workspace) -> None:
    """The score run of a day of the kept model keeps its offers beside the saved models,
    and the next day's offers from them are those of the model ranking everyone."""
    scoring._score_cross_sell(ws, DAY, True)  # fitted and saved
    folder = model_folder(ws)
    assert folder is not None and not (folder / KEPT_OFFERS).exists()
    d1 = DAY + dt.timedelta(days=1)
    insert_lines(ws, [("C001", "S20", d1)], "N")
    first = scoring._score_cross_sell(ws, d1, True)
    assert (folder / KEPT_OFFERS).exists()
    insert_lines(ws, [("C002", "S40", d1)], "M")
    second = scoring._score_cross_sell(ws, d1, True)
    (folder / KEPT_OFFERS).unlink()
    assert second.equals(scoring._score_cross_sell(ws, d1, True))
    assert not first.equals(second)
