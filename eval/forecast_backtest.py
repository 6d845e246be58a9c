"""Backtest the portfolio forecast month by month beside two naive baselines.

For each data set, the last 12 whole months are forecast one month ahead, as of the day before
each (``salesradar.performance.forecast.forecast_backtest``: repeat business, new customers,
seasonality and returns, refitted every month; open deals and cross-sell cannot be replayed),
against the net revenue invoiced in the month, the same month a year earlier and the mean of the
last 3 months; the purchase-rhythm model's own forecast (repeat + new customers) is shown beside
it, since with a year of history the forecast uses the seasonal rule instead. Prints one
Markdown table per data set and a summary of the mean absolute percentage error (MAPE) over the
months where the baselines exist, for docs/performance.md.

    python eval/forecast_backtest.py [demo classicmodels uci_online_retail_2y ...] [--months 12]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import textwrap
from pathlib import Path
from typing import Any

from salesradar.performance.forecast import forecast_backtest
from salesradar.workspace import Workspace

HERE = Path(__file__).resolve().parent
DATASETS = ("demo", "uci_online_retail_2y", "classicmodels")


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"salesradar_eval_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def _path(name: str, cache: Path) -> Path:
    if name == "demo":
        path: Path = _module("run_eval")._demo_workspace(cache)[0]
        return path
    workspace: Path = _module("datasets").workspace_for(name)
    return workspace


def _k(value: float | None) -> str:
    return "—" if value is None else f"{value / 1000:,.0f}k"


def _err(accuracy: float | None) -> str:
    return "—" if accuracy is None else f"{1 - accuracy:.0%}"


def table(name: str, result: dict[str, Any]) -> str:
    """One data set's months and its summary, in Markdown."""
    lines = [f"### {name}", "",
             "| month | actual | forecast (80% range) | error | rhythm model | error "
             "| same month last year | error | mean of last 3 | error |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in result["months"]:
        lines.append(
            f"| {r['period'][:7]} | {_k(r['actual'])} | {_k(r['forecast'])} ({_k(r['low'])}–"
            f"{_k(r['high'])}) | {_err(r['accuracy'])} | {_k(r['rhythm'])} | "
            f"{_err(r['accuracy_rhythm'])} | "
            f"{_k(r['same_month_last_year'])} | "
            f"{_err(r['accuracy_same_month_last_year'])} | {_k(r['mean_last_3'])} | "
            f"{_err(r['accuracy_mean_last_3'])} |")
    mape = result["mape"]

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v:.2%}"

    summary = (f"MAPE over the {result['compared']} months with both baselines: forecast "
               f"{pct(mape['forecast'])} (rhythm model {pct(mape['rhythm'])}), same month last "
               f"year {pct(mape['same_month_last_year'])}, mean of last 3 "
               f"{pct(mape['mean_last_3'])}; actual inside the 80% range in "
               f"{result['within_range']:.0%} of the months.")
    lines += ["", *textwrap.wrap(summary, 100, break_on_hyphens=False), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--cache", type=Path, default=HERE / ".cache")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    for name in args.datasets:
        with Workspace.open(_path(name, args.cache), read_only=True) as ws:
            print(table(name, forecast_backtest(ws, months=args.months)), flush=True)


if __name__ == "__main__":
    main()
