"""Import benchmark: N generated invoice lines from CSV and from Parquet into a fresh workspace.

Each import runs in its own child process, so its peak memory (max RSS) is measured alone. The
re-import of the same file (every row unchanged) is timed too: it is what a nightly refresh does.

    python bench/bench_import.py [--lines 10000000] [--out bench/out]

Prints a Markdown table (the one recorded in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import duckdb

CHILD = """
import json, resource, sys, time
from salesradar.io import import_file
from salesradar.workspace import Workspace
ws = Workspace.open(sys.argv[1])
times = []
for _ in range(int(sys.argv[3])):
    started = time.perf_counter()
    report = import_file(ws, "invoice_lines", sys.argv[2])
    times.append((time.perf_counter() - started, report.inserted, report.unchanged))
ws.close()
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"times": times, "peak_mib": peak_kib / 1024}))
"""


def generate(lines: int, out: Path) -> dict[str, Path]:
    """Invoice lines shaped like an ERP export: 50k customers, 5k SKUs, 50 reps, 3 years."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = out / f"lines_{lines}.csv", out / f"lines_{lines}.parquet"
    if csv_path.exists() and parquet_path.exists():
        return {"csv": csv_path, "parquet": parquet_path}
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE g AS SELECT
            'INV' || lpad(CAST(i // 4 AS VARCHAR), 9, '0') AS invoice_id,
            i % 4 + 1 AS line_no,
            DATE '2023-01-01' + CAST((i // 4) * 1095 // ({lines} // 4 + 1) AS INTEGER)
                AS invoice_date,
            'C' || lpad(CAST(hash(i // 4) % 50000 AS VARCHAR), 5, '0') AS customer_id,
            'SKU-' || lpad(CAST(hash(i) % 5000 AS VARCHAR), 4, '0') AS sku,
            CAST(1 + hash(i * 7) % 24 AS DOUBLE) * (CASE WHEN i % 50 = 0 THEN -1 ELSE 1 END)
                AS quantity,
            round(quantity * (3 + (hash(i) % 5000) / 100.0), 2) AS net_revenue,
            round(net_revenue * 0.68, 2) AS cost,
            'R' || lpad(CAST(hash(i // 4) % 50 AS VARCHAR), 2, '0') AS rep_id,
            ['field', 'phone', 'web'][CAST(1 + hash(i // 4) % 3 AS BIGINT)] AS channel
        FROM range({lines}) t(i)
    """)
    con.execute(f"COPY g TO '{csv_path}' (HEADER)")
    con.execute(f"COPY g TO '{parquet_path}' (FORMAT parquet)")
    return {"csv": csv_path, "parquet": parquet_path}


def run_import(path: Path, workspace: Path, repeats: int) -> dict[str, object]:
    for stale in (workspace, Path(str(workspace) + ".wal")):
        stale.unlink(missing_ok=True)
    result = subprocess.run([sys.executable, "-c", CHILD, str(workspace), str(path), str(repeats)],
                            capture_output=True, text=True, check=True)
    data: dict[str, object] = json.loads(result.stdout)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    started = time.perf_counter()
    files = generate(args.lines, args.out)
    print(f"generated {args.lines:,} lines in {time.perf_counter() - started:.1f} s "
          f"(CSV {files['csv'].stat().st_size / 2**20:,.0f} MiB, "
          f"Parquet {files['parquet'].stat().st_size / 2**20:,.0f} MiB)", file=sys.stderr)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, duckdb {duckdb.__version__}\n")
    print("| source | lines | first import (s) | lines/s | re-import, all unchanged (s) "
          "| peak memory (MiB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in ("parquet", "csv"):
        result = run_import(files[kind], args.out / f"ws_{kind}.duckdb", repeats=2)
        times = result["times"]
        assert isinstance(times, list)
        first, again = times[0], times[1]
        assert first[1] == args.lines and again[2] == args.lines, times
        print(f"| {kind} | {args.lines:,} | {first[0]:.1f} | {args.lines / first[0]:,.0f} | "
              f"{again[0]:.1f} | {result['peak_mib']:,.0f} |")


if __name__ == "__main__":
    main()
