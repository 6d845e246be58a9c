"""What the private copy of a refresh costs: copy and publish time per GB of workspace.

Every writer (``salesradar run``, ``import``, ``score``) copies the served workspace beside it,
writes the copy and publishes it with ``os.replace`` (salesradar.workspace.writing). This builds
a DuckDB workspace of about ``--gb`` GB (invoice lines of random values, which do not compress),
then times ``writing()`` with an empty body (lock, copy, open, checkpoint, close, publish) a few
times, and a plain ``cp`` of the same file for comparison::

    python bench/bench_refresh.py --gb 2

The source file is in the page cache after the first pass (as a workspace that is read all day
is); the first pass is reported apart.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb

from salesradar.workspace import staging_path, writing

ROW_BYTES = 33  # what one random invoice line takes in a DuckDB file (measured)


def build(path: Path, gb: float) -> int:
    rows = int(gb * 1024**3 / ROW_BYTES)
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE invoice_lines AS SELECT 'INV-' || (i // 4)::VARCHAR AS invoice_id, "
        "(i % 4)::INTEGER AS line_no, DATE '2020-01-01' + (i % 2000)::INTEGER AS invoice_date, "
        "'C' || (hash(i) % 50000)::VARCHAR AS customer_id, 'SKU' || (hash(i * 7) % 5000)::VARCHAR "
        "AS sku, random() * 100 AS quantity, random() * 10000 AS net_revenue, "
        "random() * 8000 AS cost FROM range(?) t(i)", [rows])
    con.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="folder (default: a temp dir)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-refresh-", dir=args.dir))
    try:
        path = folder / "acme.duckdb"
        started = time.perf_counter()
        rows = build(path, args.gb)
        size = path.stat().st_size / 1024**3
        print(f"built {rows:,} rows, {size:.2f} GiB in {time.perf_counter() - started:.1f} s")
        passes = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            with writing(path):
                copied = time.perf_counter() - started
            passes.append({"copy_s": round(copied, 2),
                           "total_s": round(time.perf_counter() - started, 2)})
        target = folder / "cp.duckdb"
        started = time.perf_counter()
        subprocess.run(["cp", str(path), str(target)], check=True)
        cp = time.perf_counter() - started
        assert not staging_path(path).exists()
        result = {"gib": round(size, 2), "passes": passes, "cp_s": round(cp, 2),
                  "writing_s_per_gib": round(min(p["total_s"] for p in passes) / size, 2)}
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
