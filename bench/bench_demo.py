"""Benchmark the demo generator: 10 million invoice lines as Parquet.

Run ``.venv/bin/python bench/bench_demo.py`` (``--lines``, ``--customers``... to change the
size). Prints seconds per stage and in total, the rows written and the peak resident memory of
the process (``resource.getrusage``; kilobytes on Linux).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from salesradar.demo import generate


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--skus", type=int, default=5_000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--format", choices=("csv", "parquet"), default="parquet")
    args = parser.parse_args()

    stages: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    last = ["start", t0]

    def progress(stage: str, fraction: float) -> None:
        if stage != last[0]:
            now = time.perf_counter()
            stages.append((str(last[0]), now - float(last[1])))
            last[0], last[1] = stage, now

    with tempfile.TemporaryDirectory() as tmp:
        summary = generate(Path(tmp), customers=args.customers, skus=args.skus, reps=args.reps,
                           years=args.years, lines=args.lines, fmt=args.format,
                           progress=progress)
        total = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    lines = summary.rows["invoice_lines"]
    print(f"{'stage':<16}{'seconds':>10}")
    for stage, seconds in stages:
        print(f"{stage:<16}{seconds:>10.2f}")
    print(f"{'total':<16}{total:>10.2f}")
    print()
    print(f"invoice lines   {lines:,} (asked {args.lines:,}, {lines / args.lines - 1:+.1%})")
    print(f"all rows        {sum(summary.rows.values()):,} in {len(summary.rows)} tables")
    print(f"files           {size / 1e6:,.0f} MB ({args.format})")
    print(f"peak RSS        {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
