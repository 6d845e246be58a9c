"""Insights for a 10M-line demo workspace: generate, import, score every model, generate insights.

    python bench/bench_insights.py [--lines 10000000] [--out bench/out]

Prints the seconds of each stage; the insight stage (rules over the stored scores, KPIs and CRM
tables, upserted into a fresh insight store) is the one issue 5 targets (under 30 s).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from salesradar.app import AppDB
from salesradar.demo import generate
from salesradar.insights import InsightStore, run_insights
from salesradar.io.folder import import_folder
from salesradar.models.scoring import score_workspace
from salesradar.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    folder = args.out / f"demo_{args.lines}"
    stages: list[tuple[str, float, str]] = []

    started = time.perf_counter()
    if not (folder / "invoice_lines.parquet").exists():
        generate(folder, customers=50_000, years=3, skus=5_000, reps=50, lines=args.lines,
                 fmt="parquet", seed=7)
    stages.append(("generate (cached after the first run)", time.perf_counter() - started, ""))
    workspace = folder / "ws.duckdb"
    for stale in (workspace, Path(f"{workspace}.wal"), folder / "app.sqlite"):
        stale.unlink(missing_ok=True)
    with Workspace.open(workspace) as ws:
        started = time.perf_counter()
        reports = import_folder(ws, folder)
        rows = sum(r.rows_read for r in reports)
        stages.append(("import 13 tables", time.perf_counter() - started, f"{rows:,} rows"))
        started = time.perf_counter()
        scores = score_workspace(ws)
        detail = ", ".join(f"{k} {v:.0f} s" for k, v in scores.seconds.items())
        stages.append(("score every model", time.perf_counter() - started, detail))
        store = InsightStore(AppDB.open(f"sqlite:///{folder / 'app.sqlite'}"))
        started = time.perf_counter()
        counts = run_insights(ws, store)
        stages.append(("insights: generate + store", time.perf_counter() - started,
                       f"{counts['total']:,} insights"))
        started = time.perf_counter()
        again = run_insights(ws, store)
        stages.append(("insights again, unchanged data", time.perf_counter() - started,
                       f"{again['new']} new"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| stage | seconds | detail |\n|---|---:|---|")
    for name, seconds, detail in stages:
        print(f"| {name} | {seconds:.1f} | {detail} |")
    print(f"\npeak memory {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
