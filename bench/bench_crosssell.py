"""Cross-sell: speed on simulated data and quality on the UCI Online Retail backtests.

    .venv/bin/python bench/bench_crosssell.py                 # speed: 50k customers x 5k SKUs
    .venv/bin/python bench/bench_crosssell.py --customers 5000 --skus 1000 --purchases 200000
    .venv/bin/python bench/bench_crosssell.py --backtest      # UCI Online Retail I and II

**Speed.** 2,000,000 purchases (customer, SKU, purchase count) simulated with a seed: customers
belong to one of 50 taste clusters, each cluster preferring its own SKUs on top of a global
popularity curve. Each recommender is fitted and then recommends the top 10 SKUs (with reasons
and expected values) for every customer, in the same run, beside the alternatives a user would
otherwise pick: ``implicit``-ALS (ours, wrapped) versus our item-item cosine recommender and
scikit-learn's ``TruncatedSVD`` (randomized SVD of the same weighted matrix, top 10 by
reconstruction, no reasons).

**Quality.** UCI Online Retail (2010-12 .. 2011-12; cutoff 2011-09-09) and Online Retail II,
sheet 2009-2010 (cutoff 2010-09-09), 90-day horizon, cancellations, rows without a customer and
non-product stock codes (POST, DOT, M, D, C2, BANK CHARGES, ... -- every code not starting with a
digit) removed; the models' defaults were chosen on an earlier cutoff of Online Retail
(2011-06-09) and were not retuned for these runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from threadpoolctl import threadpool_limits

from salesradar.io import import_file
from salesradar.io.mapping import ColumnMapping, Mapping
from salesradar.models.crosssell import (
    ALSRecommender,
    ItemItemRecommender,
    PopularityRecommender,
    backtest,
)
from salesradar.workspace import Workspace

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
UCI_I = DATASETS / "uci_online_retail" / "online_retail.parquet"
UCI_II = DATASETS / "uci_online_retail_ii" / "online_retail_ii_2009_2010.parquet"
UCI_I_MAPPING = Path(__file__).resolve().parents[1] / "eval" / "mappings" / "uci_online_retail.yaml"
UCI_II_MAPPING = Mapping(
    table="invoice_lines",
    skip_if_empty=("customer_id",),
    columns={
        "invoice_id": ColumnMapping("invoice_id", source="Invoice"),
        "invoice_date": ColumnMapping("invoice_date", source="InvoiceDate"),
        "customer_id": ColumnMapping("customer_id", source="Customer ID"),
        "sku": ColumnMapping("sku", source="StockCode"),
        "quantity": ColumnMapping("quantity", source="Quantity"),
        "net_revenue": ColumnMapping("net_revenue", formula="{Quantity} * {Price}"),
        "channel": ColumnMapping("channel", source="Country"),
    },
)


def simulate(
    customers: int, skus: int, purchases: int, seed: int = 0
) -> pa.Table:
    """Simulated interactions: clustered tastes on top of a Zipf-like popularity."""
    rng = np.random.default_rng(seed)
    clusters = 50
    popularity = 1.0 / np.arange(1, skus + 1) ** 0.8
    popularity /= popularity.sum()
    cluster_of = rng.integers(0, clusters, customers)
    per_cluster = max(skus // clusters, 1)
    # half of the draws from the global curve, half from the customer's cluster's SKUs
    draws_customer = rng.integers(0, customers, purchases)
    from_cluster = rng.random(purchases) < 0.5
    sku = rng.choice(skus, size=purchases, p=popularity)
    offset = rng.integers(0, per_cluster, purchases)
    sku = np.where(from_cluster, (cluster_of[draws_customer] * per_cluster + offset) % skus, sku)
    key = draws_customer.astype(np.int64) * skus + sku
    unique, counts = np.unique(key, return_counts=True)
    cust, item = unique // skus, unique % skus
    start = np.datetime64("2025-01-01")
    last = start + rng.integers(0, 365, len(unique)).astype("timedelta64[D]")
    return pa.table(
        {
            "customer_id": pa.array(np.char.add("C", cust.astype(str))),
            "sku": pa.array(np.char.add("S", item.astype(str))),
            "purchases": pa.array(counts.astype(np.float64)),
            "revenue": pa.array(counts * rng.gamma(2.0, 50.0, len(unique))),
            "first_date": pa.array(np.full(len(unique), start)),
            "last_date": pa.array(last),
        }
    )


def _timed(fn: Any) -> tuple[float, float, Any]:
    """Wall-clock and CPU seconds (all threads) of ``fn()``, and its result."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - t0, time.process_time() - c0, result


def svd_top10(model: ALSRecommender, factors: int) -> tuple[float, float, float, float]:
    """scikit-learn TruncatedSVD on the same weighted matrix: fit, then top 10 per customer.

    Returns wall and CPU seconds of the fit and of the top-10 step.
    """
    from sklearn.decomposition import TruncatedSVD

    from salesradar.models.crosssell.base import _weights

    weighted = _weights(model.user_items_, "bm25")
    bought = model.binary_

    def fit() -> tuple[Any, Any]:
        svd = TruncatedSVD(n_components=factors, random_state=0)
        return svd.fit_transform(weighted), svd.components_

    def top10(user: Any, items: Any) -> None:
        for lo in range(0, user.shape[0], 2048):  # batches of customers, vectorized inside
            scores = user[lo:lo + 2048] @ items
            b = bought[lo:lo + 2048].tocoo()
            scores[b.row, b.col] = -np.inf
            np.argpartition(-scores, 9, axis=1)[:, :10]

    with threadpool_limits(1, "blas"):
        fit_wall, fit_cpu, (user, items) = _timed(fit)
        rec_wall, rec_cpu, _ = _timed(lambda: top10(user, items))
    return fit_wall, fit_cpu, rec_wall, rec_cpu


def speed(customers: int, skus: int, purchases: int) -> None:
    interactions = simulate(customers, skus, purchases)
    print(f"simulated {interactions.num_rows:,} customer x SKU pairs from {purchases:,} "
          f"purchases ({customers:,} customers x {skus:,} SKUs)")
    rows = []
    als = ALSRecommender()
    for name, model in (
        ("ALS (implicit 0.7, 64 factors, 10 it.)", als),
        ("item-item cosine (20 neighbours)", ItemItemRecommender()),
        ("popularity baseline", PopularityRecommender()),
    ):
        fit_w, fit_c, _ = _timed(lambda m=model: m.fit(interactions))  # type: ignore[misc]
        rec_w, rec_c, recs = _timed(lambda m=model: m.recommend(n=10))  # type: ignore[misc]
        rows.append((name, fit_w, rec_w, fit_c + rec_c, recs.num_rows))
        if model is als:
            all_rows = np.arange(len(als.customers_))
            top_w, top_c, _ = _timed(lambda r=all_rows: als._top_n(r, 10, True))  # type: ignore[misc]
            rows.append(("  ALS top-10 only (no reasons)", 0.0, top_w, top_c, 10 * len(all_rows)))
    fit_w, fit_c, rec_w, rec_c = svd_top10(als, 64)
    rows.append(("sklearn TruncatedSVD (64, top-10, no reasons)", fit_w, rec_w, fit_c + rec_c,
                 10 * len(als.customers_)))
    print(f"{'model':48s} {'fit s':>7s} {'recommend s':>12s} {'total s':>8s} {'CPU s':>7s} "
          f"{'rows':>10s}")
    for name, fit_s, rec_s, cpu_s, n in rows:
        print(f"{name:48s} {fit_s:7.2f} {rec_s:12.2f} {fit_s + rec_s:8.2f} {cpu_s:7.2f} "
              f"{n:10,d}")
    print("(wall-clock seconds on a shared 2-core machine; CPU s = CPU time of all threads)")


def _uci_lines(path: Path, mapping: Mapping | Path, folder: Path) -> Any:
    ws = Workspace.open(folder / f"{path.stem}.duckdb")
    if ws.row_count("invoice_lines") == 0:
        import_file(ws, "invoice_lines", path, mapping)
    t = ws.table("invoice_lines")
    return t.filter(~t.invoice_id.startswith("C") & t.sku.re_search("^[0-9]"))


def quality() -> None:
    print(f"{'data':16s} {'model':22s} {'metric':16s} {'model':>7s} {'popularity':>10s} {'n':>6s}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, path, mapping, cutoff in (
            ("Online Retail", UCI_I, UCI_I_MAPPING, dt.date(2011, 9, 9)),
            ("Online Retail II", UCI_II, UCI_II_MAPPING, dt.date(2010, 9, 9)),
        ):
            lines = _uci_lines(path, mapping, Path(tmp))
            t0 = time.perf_counter()
            metrics = backtest(lines, cutoff, 90)
            for m in metrics:
                print(f"{label:16s} {m.model:22s} {m.metric:16s} {m.value or 0:7.4f} "
                      f"{m.baseline_value or 0:10.4f} {m.n:6d}")
            print(f"{label:16s} backtest took {time.perf_counter() - t0:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backtest", action="store_true", help="UCI backtests instead")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--skus", type=int, default=5_000)
    parser.add_argument("--purchases", type=int, default=2_000_000)
    args = parser.parse_args()
    if args.backtest:
        quality()
    else:
        speed(args.customers, args.skus, args.purchases)


if __name__ == "__main__":
    main()
