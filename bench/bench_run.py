"""A refresh of the 10M-line company as a schedule starts it: ``salesradar run`` in its own process.

    python bench/bench_run.py [--lines 10000000] [--out bench/out] [--memory-limit 1GB]

The demo company (50k customers, 5k SKUs, 50 reps, 3 years; generated once into ``--out``) is
split into everything but its last two days of invoice lines, and those two days. Then, each
step a new process on a fresh workspace and app database:

1. full refresh: ``salesradar run --data`` (import 13 tables, score every model, insights);
2. ``run`` again, nothing changed;
3. ``import invoice_lines`` of the day before the last, then ``run``: the first day after a full
   refresh, which also keeps the customer-days it computed for the days after it;
4. ``import invoice_lines`` of the last day, then ``run``: a day after a day, as a schedule runs
   most of them;
5. ``run`` again, nothing changed.

Prints a markdown table with each step's seconds, its CPU seconds (user + system, with the worker
processes it waited for: steadier than the wall time on a shared machine), the process's peak
memory, what ``run`` reported (scores reused, results kept) and the load average before each
step.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from salesradar.demo import generate


def split(folder: Path) -> tuple[Path, list[tuple[Path, int]]]:
    """``folder/all_but_last_two_days/`` (every table; invoice lines without their last two
    days) and each of those days' lines as a Parquet file, the day before the last first;
    returns the folder and each day's file with its line count. (``all_but_last_day/`` and
    ``last_day.parquet`` are kept as well: the last day's split of earlier versions.)"""
    lines = str(folder / "invoice_lines.parquet")
    con = duckdb.connect()
    last, before_last = (row[0] for row in con.execute(
        f"SELECT DISTINCT invoice_date FROM '{lines}' ORDER BY 1 DESC LIMIT 2").fetchall())
    splits = [("all_but_last_day", "last_day.parquet", last),
              ("all_but_last_two_days", "day_before_last.parquet", before_last)]
    for rest_name, day_name, day in splits:
        rest, day_file = folder / rest_name, folder / day_name
        if day_file.exists():
            continue
        rest.mkdir(exist_ok=True)
        for table in folder.glob("*.parquet"):
            if table.name != "invoice_lines.parquet" and not table.name.endswith("day.parquet") \
                    and not table.name.endswith("last.parquet"):
                target = rest / table.name
                if not target.exists():
                    target.symlink_to(table.resolve())
        con.execute(f"COPY (SELECT * FROM '{lines}' WHERE invoice_date < ?) TO "
                    f"'{rest / 'invoice_lines.parquet'}' (FORMAT parquet)", [day])
        con.execute(f"COPY (SELECT * FROM '{lines}' WHERE invoice_date = ?) TO "
                    f"'{day_file}' (FORMAT parquet)", [day])
    days = []
    for day_name in ("day_before_last.parquet", "last_day.parquet"):
        day_file = folder / day_name
        count = con.execute(f"SELECT count(*) FROM '{day_file}'").fetchone()[0]
        days.append((day_file, int(count)))
    return folder / "all_but_last_two_days", days


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, float, dict[str, object]]:
    """Seconds, CPU seconds (user + system), peak RSS (MiB) and the JSON printed by one
    salesradar command."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "salesradar", *args, "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out = process.stdout.read() if process.stdout else b""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"salesradar {' '.join(args)} failed ({status}): {out[-2000:]!r}")
    result = json.loads(out)
    result["_load"] = load
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--memory-limit", default=None, help="SALESRADAR_MEMORY_LIMIT")
    args = parser.parse_args()
    folder = args.out / f"demo_{args.lines}"
    if not (folder / "invoice_lines.parquet").exists():
        generate(folder, customers=50_000, years=3, skus=5_000, reps=50, lines=args.lines,
                 fmt="parquet", seed=7)
    before, ((first_day, first_lines), (next_day, next_lines)) = split(folder)
    workspace = folder / "run.duckdb"
    for stale in folder.glob("run.*"):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    env = {**os.environ, "SALESRADAR_WORKSPACE": str(workspace)}
    if args.memory_limit:
        env["SALESRADAR_MEMORY_LIMIT"] = args.memory_limit
    run = ["run", "--no-deliver", "--top", "0"]
    steps = [
        ("full refresh: import 13 tables, score, insights", [*run, "--data", str(before)]),
        ("run, nothing changed", run),
        (f"import the day before the last ({first_lines:,} lines)",
         ["import", "invoice_lines", str(first_day)]),
        ("run after that day (the first after the full refresh)", run),
        (f"import the last day ({next_lines:,} lines)", ["import", "invoice_lines", str(next_day)]),
        ("run after that day (a day after a day)", run),
        ("run, nothing changed", run),
    ]
    print("| step | seconds | CPU s | peak MiB | reported | load before |\n"
          "|---|---:|---:|---:|---|---:|")
    for name, command in steps:
        seconds, cpu, peak, result = timed(command, env)
        scores = result.get("scores") or {}
        told = ("results kept" if result.get("unchanged_since") else
                "scores reused" if scores.get("reused") else
                ", ".join(f"{k} {v:.0f} s" for k, v in (scores.get("seconds") or {}).items()))
        insights = result.get("insights") or {}
        if insights:
            told += f"; insights {insights.get('new', 0)} new, {insights.get('updated', 0)} " \
                    f"updated, {insights.get('total', 0)} open"
        print(f"| {name} | {seconds:.1f} | {cpu:.1f} | {peak:,.0f} | {told} | "
              f"{result['_load']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
