"""Purchase-rhythm benchmark: BG/NBD fit and scoring on 1,000,000 simulated customers.

Customers are simulated (seeded) from a BG/NBD process in daily units, as a B2B wholesaler's
customer-days would be: first purchases spread over two years (T = 1..730 whole days), purchase
times rounded to whole days. The script times ``BetaGeoModel.fit`` and scoring (P(alive) plus
expected purchases over 90 days), then the library a user would otherwise pick, ``lifetimes``
(``BetaGeoFitter``), on a subset the size of the full CDNOW master file (23,570 customers) and,
with ``--lifetimes-full``, on all customers.

    python bench/bench_rhythm.py [--customers 1000000] [--subset 23570] [--repeats 3]

Prints a Markdown table. Timings are the best of ``--repeats`` runs (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from salesradar.models import BetaGeoModel, BetaGeoParams, simulate_purchases

TRUTH = BetaGeoParams(r=0.8, alpha=40.0, a=0.6, b=3.0)  # a purchase every ~50 days while alive
HORIZON_DAYS = 90.0
Array = npt.NDArray[np.float64]


def simulate(n: int, seed: int) -> tuple[Array, Array, Array, Array]:
    """(frequency, recency in whole days, T, recency in continuous time) for ``n`` customers."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 731, n).astype(np.float64)
    frequency, exact = simulate_purchases(TRUTH, T, seed=rng)
    recency = np.minimum(np.rint(exact), T)
    # a repeat purchase rounded onto the first day is still a later customer-day
    recency = np.where((frequency > 0) & (recency == 0), np.minimum(1.0, T), recency)
    return frequency, recency, T, exact


def best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, float, Any]:
    """Best and median wall time of ``repeats`` runs, and the last result.

    The best CPU time of the process over the same runs is kept in ``LAST_CPU[0]`` (on a
    shared machine the wall time grows with the load, the CPU time much less).
    """
    times, cpu, result = [], [], None
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = run()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    LAST_CPU[0] = min(cpu)
    return min(times), statistics.median(times), result


LAST_CPU = [0.0]


def ours(repeats: int, f: Array, r: Array, T: Array) -> dict[str, Any]:
    fit_best, fit_median, model = best_of(repeats, lambda: BetaGeoModel().fit(f, r, T))
    fit_cpu = LAST_CPU[0]

    def score() -> tuple[Array, Array]:
        return model.probability_alive(f, r, T), model.expected_purchases(HORIZON_DAYS, f, r, T)

    score_best, score_median, scores = best_of(repeats, score)
    return {
        "fit": (fit_best, fit_median),
        "fit_cpu": fit_cpu,
        "score": (score_best, score_median),
        "params": model.params_.as_dict(),
        "ll": model.log_likelihood_,
        "rows": model.n_rows_,
        "scores": scores,
    }


def lifetimes_run(repeats: int, f: Array, r: Array, T: Array) -> dict[str, Any]:
    """The same with lifetimes' BetaGeoFitter, or the error it fails with."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lifetimes  # type: ignore[import-untyped]
            import pandas as pd  # type: ignore[import-untyped, unused-ignore]
    except Exception as exc:  # report any import failure as the result
        return {"error": f"{type(exc).__name__}: {exc}"}
    frame = pd.DataFrame({"frequency": f, "recency": r, "T": T})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")

            def fit() -> Any:
                return lifetimes.BetaGeoFitter().fit(
                    frame["frequency"], frame["recency"], frame["T"]
                )

            fit_best, fit_median, model = best_of(repeats, fit)

            def score() -> tuple[Array, Array]:
                alive = model.conditional_probability_alive(
                    frame["frequency"], frame["recency"], frame["T"]
                )
                expected = model.conditional_expected_number_of_purchases_up_to_time(
                    HORIZON_DAYS, frame["frequency"], frame["recency"], frame["T"]
                )
                return np.asarray(alive, dtype=float), np.asarray(expected, dtype=float)

            score_best, score_median, scores = best_of(repeats, score)
    except Exception as exc:  # report any failure as the result
        return {"error": f"{type(exc).__name__}: {exc}"}
    params = {k: float(model.params_[k]) for k in ("r", "alpha", "a", "b")}
    # lifetimes reports the likelihood of rescaled times; score its estimates on ours instead
    judge = BetaGeoModel()
    judge.params_ = BetaGeoParams(**params)
    return {
        "fit": (fit_best, fit_median),
        "score": (score_best, score_median),
        "params": params,
        "ll": float(judge.log_likelihood(f, r, T).sum()),
        "version": lifetimes.__version__,
        "scores": scores,
    }


def row(label: str, n: int, result: dict[str, Any]) -> str:
    if "error" in result:
        return f"| {label} | {n:,} | failed: {result['error']} | | | | |"
    p = result["params"]
    params = f"{p['r']:.4f}, {p['alpha']:.3f}, {p['a']:.4f}, {p['b']:.4f}"
    fb, fm = result["fit"]
    sb, sm = result["score"]
    cpu = f"{result['fit_cpu']:.3f}" if "fit_cpu" in result else "—"
    return (
        f"| {label} | {n:,} | {fb:.3f} ({fm:.3f}) | {cpu} | {sb:.3f} ({sm:.3f}) | {params} "
        f"| {result['ll']:.1f} |"
    )


def agreement(a: dict[str, Any], b: dict[str, Any]) -> str:
    if "error" in a or "error" in b:
        return ""
    alive = np.abs(a["scores"][0] - b["scores"][0]).max()
    expected = np.abs(a["scores"][1] - b["scores"][1]).max()
    return f"max |ΔP(alive)| = {alive:.2e}, max |ΔE[Y({HORIZON_DAYS:g})]| = {expected:.2e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--subset", type=int, default=23_570)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--lifetimes-full", action="store_true", help="also run lifetimes on all")
    args = parser.parse_args()

    started = time.perf_counter()
    f, r, T, exact = simulate(args.customers, args.seed)
    simulate_seconds = time.perf_counter() - started
    sub = slice(0, args.subset)

    results = [
        ("salesradar BetaGeoModel", args.customers, ours(args.repeats, f, r, T)),
        (
            "salesradar BetaGeoModel, recency not rounded (few duplicates)",
            args.customers,
            ours(args.repeats, f, exact, T),
        ),
        ("salesradar BetaGeoModel", args.subset, ours(args.repeats, f[sub], r[sub], T[sub])),
    ]
    life_sub = lifetimes_run(args.repeats, f[sub], r[sub], T[sub])
    label = f"lifetimes {life_sub.get('version', '')} BetaGeoFitter".replace("  ", " ")
    results.append((label, args.subset, life_sub))
    if args.lifetimes_full:
        results.append((label, args.customers, lifetimes_run(1, f, r, T)))

    print(
        f"BG/NBD benchmark — {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start"
    )
    print(
        f"simulated {args.customers:,} customers in {simulate_seconds:.2f} s; truth r, alpha, a, b "
        f"= {TRUTH.r}, {TRUTH.alpha}, {TRUTH.a}, {TRUTH.b} (days); "
        f"{results[0][2]['rows']:,} distinct (x, t_x, T) rows in whole days, "
        f"{results[1][2]['rows']:,} unrounded; score = P(alive) + "
        f"E[Y({HORIZON_DAYS:g} days)]\n"
    )
    print(
        "| model | customers | fit s best (median) | fit CPU s (best) | score s best (median) "
        "| r, alpha, a, b | LL |"
    )
    print("|---|---:|---:|---:|---:|---|---:|")
    for name, n, result in results:
        print(row(name, n, result))
    note = agreement(results[2][2], life_sub)
    if note:
        print(f"\nsalesradar vs lifetimes on the {args.subset:,} subset: {note}")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
