"""Backtest the churn, stopped-item and cross-sell models on the public datasets and demo data.

Each real dataset is imported through the normal importer with its mapping (eval/datasets.py,
cached in eval/.cache/), the demo company is generated with a fixed seed and imported from its
folder; then ``salesradar.models.backtest.evaluate`` runs at the dataset's cutoff and a
Markdown table is printed per dataset.

    python eval/run_eval.py [uci_online_retail uci_online_retail_ii demo] [--horizon 90]
                            [--churn-seeds 5] [--churn-ceiling]

``--churn-seeds N`` adds the churn ROC AUC and lost revenue captured for booster seeds 0..N-1
(the spread the targets are judged against). ``--churn-ceiling`` adds an *oracle*: LightGBM
cross-validated (5 folds, 3 repeats) inside the test snapshot on the scored customers' real
outcomes with the model's features, a bound on what any model with these features can reach
at that cutoff (it uses the test labels, so it is a diagnosis, never a model).

Cutoffs: UCI Online Retail 2011-09-09 and Online Retail II 2010-09-09 (the last 90-day horizon
that fits before each file ends); demo data: 90 days before the generator's end date.
``uci_online_retail_2y`` (Online Retail II's first year + Online Retail I, two years of the same
wholesaler) is backtested for churn only at 2011-09-09, on all its customers and on those of
Online Retail I alone.
Non-product codes (postage, fees, discounts, samples) are left out of stopped items and
cross-sell by the models themselves (``salesradar.models.non_product``, detected from the data);
on the UCI data the detector is checked against the StockCodes that SOURCE.md lists as not
products, and what it misses or adds is printed. Churn uses every line (cancellations are
netted into revenue but never count as a purchase).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from salesradar.models.backtest import BACKTESTS, evaluate, to_markdown
from salesradar.workspace import Workspace

HERE = Path(__file__).resolve().parent

# SOURCE.md of both UCI files: StockCodes that are not products (a check of the detector only)
UCI_NON_PRODUCT = [
    "POST", "DOT", "M", "m", "D", "C2", "C3", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS",
    "S", "B", "ADJUST", "ADJUST2", "TEST001", "TEST002",
]
CUTOFFS: dict[str, dt.date | None] = {
    "uci_online_retail": dt.date(2011, 9, 9),
    "uci_online_retail_ii": dt.date(2010, 9, 9),
    "uci_online_retail_2y": dt.date(2011, 9, 9),
    # the small B2B samples: the horizon before the last invoice (None = computed from the data)
    "superstore": None,
    "northwind": None,
    "classicmodels": None,
}
UCI = ("uci_online_retail", "uci_online_retail_ii", "uci_online_retail_2y")
# datasets backtested for churn only, also on the customers of a shorter file: (the file's
# name, its first day); those customers are the ones that file's own backtest scores
CHURN_ONLY: dict[str, tuple[str, dt.date]] = {
    "uci_online_retail_2y": ("Online Retail I", dt.date(2010, 12, 1)),
}
DEMO = {"customers": 600, "years": 3, "seed": 7}


def _datasets_module() -> Any:
    spec = importlib.util.spec_from_file_location("salesradar_eval_datasets", HERE / "datasets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def _demo_workspace(cache: Path) -> tuple[Path, Path, dt.date]:
    """Generate the demo company (once) and import it; return workspace, truth folder, end."""
    from salesradar.demo import generate
    from salesradar.io.folder import import_folder

    folder = cache / f"demo_{DEMO['customers']}_{DEMO['years']}y_seed{DEMO['seed']}"
    target = cache / f"{folder.name}.duckdb"
    summary = generate(folder, customers=DEMO["customers"], years=DEMO["years"],
                       seed=DEMO["seed"])
    if not target.exists():
        with Workspace.open(target) as ws:
            import_folder(ws, folder)
    return target, folder / "truth", summary.end


def _last_date(path: Path) -> dt.date:
    with Workspace.open(path, read_only=True) as ws:
        row = ws.con.execute("SELECT max(invoice_date) FROM invoice_lines").fetchone()
    assert row is not None and row[0] is not None, f"{path} has no invoice lines"
    last: dt.date = row[0]
    return last


def churn_seeds(ws: Any, cutoff: dt.date, horizon: int, seeds: int,
                customers: list[str] | None = None) -> str:
    """Churn ROC AUC and lost revenue captured for booster seeds 0..seeds-1 (of the given
    ``customers`` only, when given)."""
    from salesradar.models.churn import backtest

    rows = ["| seed | roc_auc | lost_revenue_captured_top20 |", "|---|---|---|"]
    values = []
    for seed in range(seeds):
        got = {m.metric: m.value for m in backtest(ws, cutoff, horizon, random_state=seed,
                                                   customers=customers)}
        values.append((got["roc_auc"] or 0.0, got["lost_revenue_captured_top20"] or 0.0))
        rows.append(f"| {seed} | {values[-1][0]:.3f} | {values[-1][1]:.3f} |")
    auc, captured = zip(*values, strict=True)
    rows.append(f"| mean | {sum(auc) / seeds:.3f} | {sum(captured) / seeds:.3f} |")
    return "\n".join(rows)


def buyers_between(ws: Any, first: dt.date, cutoff: dt.date) -> list[str]:
    """Customers with a purchase (a positive line) dated in [first, cutoff]."""
    rows = ws.con.execute(
        "SELECT DISTINCT customer_id FROM invoice_lines WHERE net_revenue > 0 "
        "AND invoice_date BETWEEN ? AND ? ORDER BY 1", [first, cutoff]).fetchall()
    return [str(r[0]) for r in rows]


def churn_ceiling(ws: Any, cutoff: dt.date, horizon: int) -> str:
    """Oracle: cross-validated LightGBM inside the test snapshot, on its own outcomes."""
    import numpy as np
    from lightgbm import LGBMClassifier
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped, unused-ignore]
    from sklearn.model_selection import (  # type: ignore[import-untyped, unused-ignore]
        StratifiedKFold,
        cross_val_predict,
    )

    from salesradar.models.churn import _as_tables, build_features
    from salesradar.models.features import churn_labels

    tables = _as_tables(ws)
    frame = build_features(tables, [cutoff], horizon_days=horizon)
    labels = churn_labels(tables, [cutoff], horizon_days=horizon).order_by("customer_id")
    y = np.asarray(labels.to_pyarrow()["churned"].to_numpy(zero_copy_only=False), dtype=int)
    x = frame.matrix()
    x = x[:, ~np.isnan(x).all(axis=0)]
    aucs = []
    for seed in range(3):
        model = LGBMClassifier(n_estimators=200, learning_rate=0.03, num_leaves=4,
                               min_child_samples=40, subsample=0.8, subsample_freq=1,
                               colsample_bytree=0.8, n_jobs=1, random_state=seed, verbose=-1)
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        p = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
        aucs.append(float(roc_auc_score(y, p)))
    return (f"churn ceiling (oracle, 5-fold CV inside the test snapshot, 3 repeats): ROC AUC "
            f"{sum(aucs) / 3:.3f} ({min(aucs):.3f}–{max(aucs):.3f}), {len(y)} customers")


def non_product_check(ws: Any) -> str:
    """The detector's codes on this workspace against SOURCE.md's list: found, missed, added."""
    from salesradar.models.non_product import detect_non_product

    found = detect_non_product(ws).to_pylist()
    rows = ws.con.execute("SELECT DISTINCT sku FROM invoice_lines").fetchall()
    present = {str(r[0]) for r in rows}
    listed = {c for c in UCI_NON_PRODUCT if c in present}
    codes = {r["sku"] for r in found}
    lines = [f"Non-product codes detected ({len(found)}):", ""]
    lines += [f"- {r['sku']} ({r['name']}): {r['reason']}" for r in found]
    lines += ["", f"SOURCE.md's codes present in the workspace: {', '.join(sorted(listed))}; "
              f"detector misses: {', '.join(sorted(listed - codes)) or 'none'}; "
              f"adds: {', '.join(sorted(codes - listed)) or 'none'}; "
              f"absent from the workspace (lines without a customer): "
              f"{', '.join(c for c in UCI_NON_PRODUCT if c not in present)}"]
    return "\n".join(lines)


def run(name: str, horizon: int, cache: Path, seeds: int = 0, ceiling: bool = False) -> str:
    """Backtest one dataset; return its Markdown section."""
    truth: Path | None = None
    settings: dict[str, dict[str, Any]] = {}
    if name == "demo":
        path, truth, end = _demo_workspace(cache)
        cutoff = end - dt.timedelta(days=horizon)
        title = (f"demo data (customers={DEMO['customers']}, years={DEMO['years']}, "
                 f"seed={DEMO['seed']})")
    else:
        path = _datasets_module().workspace_for(name)
        cutoff = CUTOFFS[name] or _last_date(path) - dt.timedelta(days=horizon)
        title = name
    started = time.perf_counter()
    extra: list[str] = []
    models = ("churn",) if name in CHURN_ONLY else BACKTESTS
    with Workspace.open(path, read_only=True) as ws:
        metrics = evaluate(ws, cutoff, horizon, truth=truth, settings=settings, models=models)
        seconds = time.perf_counter() - started
        if name in UCI and name not in CHURN_ONLY:
            extra += ["", non_product_check(ws)]
        if seeds:
            extra += ["", churn_seeds(ws, cutoff, horizon, seeds)]
        if ceiling:
            extra += ["", churn_ceiling(ws, cutoff, horizon)]
        if name in CHURN_ONLY:
            file, first = CHURN_ONLY[name]
            customers = buyers_between(ws, first, cutoff)
            extra += ["", f"Churn on the {len(customers):,} customers of {file} (a purchase "
                          f"from {first} to the cutoff), the ones its own backtest scores:", "",
                      to_markdown(evaluate(ws, cutoff, horizon, models=("churn",),
                                           settings={"churn": {"customers": customers}}))]
            if seeds:
                extra += ["", churn_seeds(ws, cutoff, horizon, seeds, customers)]
    notes = sorted({f"- {m.model}: {m.note}" for m in metrics if m.note})
    return "\n".join([
        f"### {title}: cutoff {cutoff}, horizon {horizon} days ({seconds:.0f} s)",
        "",
        to_markdown(metrics),
        "",
        *notes,
        *extra,
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*",
                        default=[*CUTOFFS, "demo"])
    parser.add_argument("--horizon", type=int, default=90)
    parser.add_argument("--churn-seeds", type=int, default=0,
                        help="also backtest churn with booster seeds 0..N-1")
    parser.add_argument("--churn-ceiling", action="store_true",
                        help="also print the oracle bound inside the test snapshot")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache",
                        help="where workspaces are built (default eval/.cache; 'tmp' for a "
                             "temporary folder)")
    args = parser.parse_args()
    unknown = [d for d in args.datasets if d != "demo" and d not in CUTOFFS]
    if unknown:
        parser.error(f"unknown dataset(s) {unknown}; choose from {[*CUTOFFS, 'demo']}")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) if str(args.cache) == "tmp" else args.cache
        cache.mkdir(parents=True, exist_ok=True)
        for name in args.datasets:
            print(run(name, args.horizon, cache, args.churn_seeds, args.churn_ceiling),
                  flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
