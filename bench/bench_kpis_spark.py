"""Benchmark: the 16 transaction KPIs by month × rep through the registry on local Spark.

The same synthetic company as ``bench/bench_kpis.py`` (its generator: 50k customers, 5k SKUs, 50
reps, 36 months), at any number of lines:

1. generate the DuckDB workspace (cached in ``bench/out/``), in chunks of at most ``--chunk``
   lines so that DuckDB's memory stays bounded (each chunk another seed and 50,000 more
   customers: 100M lines are 500,000 customers);
2. write its canonical tables as Parquet with :func:`salesradar.io.export.export_tables` (what
   ``salesradar export-tables`` does; cached);
3. connect as the CLI does, ``spark://local[2]?tables=FOLDER&spark.driver.memory=8g``, and time
   :func:`salesradar.metrics.compute_kpis` for the 16 KPIs (each run collects every result to the
   driver, as the CLI does);
4. with ``--check``, compute the same 16 KPIs on the DuckDB workspace and compare every value.

Usage::

    nice -n 10 .venv/bin/python bench/bench_kpis_spark.py [--lines 10000000] [--repeat 2]
        [--master 'local[2]'] [--driver-memory 8g] [--cache] [--check]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from bench_kpis import KPIS, generate
from salesradar.engine import connect, connect_duckdb
from salesradar.io.export import export_tables
from salesradar.metrics import compute_kpis
from salesradar.workspace import Workspace

OUT = Path(__file__).parent / "out"


def build_workspace(path: Path, lines: int, chunk: int) -> None:
    """The workspace of ``lines`` lines, built ``chunk`` lines at a time: each chunk is
    ``bench_kpis.generate`` with its own seed and 50,000 customers of its own (ids prefixed by
    the chunk), sold by the same 50 reps from the same 5,000 SKUs; a 100M-line company has
    500,000 customers."""
    first = min(lines, chunk)
    generate(path, first)
    done, n = first, 1
    while done < lines:
        size = min(chunk, lines - done)
        part = path.with_name(f"{path.stem}.part{n}.duckdb")
        part.unlink(missing_ok=True)
        generate(part, size, seed=round(0.42 - n / 100, 2))
        with Workspace.open(path) as ws:
            ws.con.execute(f"ATTACH '{part}' AS part (READ_ONLY)")
            ws.con.execute(f"""
                INSERT INTO customers BY NAME
                SELECT * REPLACE ('n{n}-' || customer_id AS customer_id) FROM part.customers""")
            ws.con.execute(f"""
                INSERT INTO invoice_lines BY NAME
                SELECT * REPLACE ('N{n}-' || invoice_id AS invoice_id,
                                  'n{n}-' || customer_id AS customer_id)
                FROM part.invoice_lines""")
            ws.con.execute("DETACH part")
            ws.con.execute("CHECKPOINT")
        part.unlink()
        Path(f"{part}.wal").unlink(missing_ok=True)
        done += size
        n += 1


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def compare(spark: dict[str, pa.Table], duck: dict[str, pa.Table]) -> int:
    """Every value and previous value of each KPI, Spark against DuckDB; the values compared."""
    compared = 0
    for name, table in duck.items():
        def rows(t: pa.Table) -> dict[tuple[str, Any], tuple[Any, Any]]:
            return {(str(p)[:10], r): (v, pv) for p, r, v, pv in zip(
                t["period"].to_pylist(), t["rep_id"].to_pylist(), t["value"].to_pylist(),
                t["previous"].to_pylist(), strict=True)}
        a, b = rows(spark[name]), rows(table)
        if a.keys() != b.keys():
            raise AssertionError(f"{name}: Spark has {len(a)} rows, DuckDB {len(b)}")
        for key, (value, previous) in b.items():
            if not (_close(a[key][0], value) and _close(a[key][1], previous)):
                raise AssertionError(f"{name} {key}: Spark {a[key]}, DuckDB {(value, previous)}")
            compared += 1
    return compared


def jvm_cpu_seconds(backend: Any) -> float:
    """CPU seconds used so far by the Spark driver's JVM (which runs the tasks in local mode)."""
    pid = int(backend._session._jvm.java.lang.ProcessHandle.current().pid())
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument("--setting", action="append", default=[], metavar="spark.KEY=VALUE",
                        help="another Spark setting for the URL (repeatable)")
    parser.add_argument("--cache", action="store_true",
                        help="cache=true in the URL: the tables in Spark's memory once read")
    parser.add_argument("--check", action="store_true", help="compare with DuckDB")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"bench_{args.lines}.duckdb"
    folder = OUT / f"spark_{args.lines}"
    if not path.exists():
        t0 = time.perf_counter()
        partial = path.with_name(f"{path.stem}.partial.duckdb")
        partial.unlink(missing_ok=True)
        build_workspace(partial, args.lines, args.chunk)
        partial.replace(path)  # cached only when whole
        print(f"generated {args.lines:,} invoice lines in {time.perf_counter() - t0:.1f} s")
    if not folder.exists():
        t0 = time.perf_counter()
        with Workspace.open(path) as ws:
            written = export_tables(ws, folder, ["invoice_lines", "customers", "products",
                                                 "reps"])
        size = sum(t.bytes for t in written) / 2**20
        print(f"exported {len(written)} tables ({size:,.0f} MiB of Parquet) in "
              f"{time.perf_counter() - t0:.1f} s")
    url = (f"spark://{args.master}?tables={folder.resolve()}"
           f"&spark.driver.memory={args.driver_memory}"
           + ("&cache=true" if args.cache else "")
           + "".join(f"&{setting}" for setting in args.setting))
    print(f"engine {url}; load average {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    backend = connect(url)
    print(f"Spark session and views in {time.perf_counter() - t0:.1f} s")
    times = []
    result: dict[str, pa.Table] = {}
    for i in range(args.repeat):
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), jvm_cpu_seconds(backend)
        result = compute_kpis(backend, KPIS, ("rep",), "month")
        seconds, cpu = time.perf_counter() - t0, jvm_cpu_seconds(backend) - c0
        times.append(seconds)
        print(f"run {i + 1}: 16 KPIs by month x rep in {seconds:.1f} s, {cpu:.0f} CPU s of "
              f"Spark's JVM (load average before {load:.2f}, after {os.getloadavg()[0]:.2f})")
    rows = sum(t.num_rows for t in result.values())
    assert rows, "no result rows: is the workspace empty?"
    print(f"best {min(times):.1f} s for {args.lines:,} lines ({rows:,} result rows); "
          f"{args.lines / min(times) / 1e6:.2f}M lines/s on {args.master}")
    backend.disconnect()
    if args.check:
        duck = connect_duckdb(path, read_only=True)
        con: duckdb.DuckDBPyConnection = duck.con
        con.execute("SET threads = 2")
        t0 = time.perf_counter()
        expected = compute_kpis(duck, KPIS, ("rep",), "month")
        print(f"DuckDB (2 threads): {time.perf_counter() - t0:.1f} s; "
              f"{compare(result, expected):,} values equal on Spark and DuckDB")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the Python process {peak:,.0f} MiB (Spark's JVM not included)")


if __name__ == "__main__":
    main()
