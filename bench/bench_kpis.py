"""Benchmark: every transaction KPI by month × rep, through the registry and by hand-written SQL.

Generates (once, cached in ``bench/out/``) a DuckDB workspace with 10M invoice lines, 50k
customers, 5k SKUs and 50 reps, then, in the same run:

1. the registry path: :func:`salesradar.metrics.compute_kpis` for the transaction KPIs (values,
   previous and change, by month × rep);
2. one hand-written DuckDB SQL query computing the same numbers, written as well as we know how
   (the lines are not materialized, revenue per customer is rolled up from revenue per customer
   and SKU, trailing-12-month revenue by running sums of monthly events, the top-5 customers per
   slice by ``QUALIFY``, which DuckDB runs as a per-slice top-N);

checks that both agree, and prints the seconds of each and their ratio.

Usage::

    .venv/bin/python bench/bench_kpis.py [--lines 10000000] [--threads 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa

from salesradar.metrics import compute_kpis
from salesradar.workspace import Workspace

OUT = Path(__file__).parent / "out"
CONCENTRATION = ["concentration_top1", "concentration_top3", "concentration_top5", "hhi"]
KPIS = [
    "revenue", "gross_profit", "gross_margin", "active_customers", "new_customers",
    "reactivated_customers", "unique_skus_per_customer", "churned_customers", "churn_rate",
    "revenue_churn_rate", "arpa", "concentration_top1", "concentration_top3",
    "concentration_top5", "hhi", "revenue_per_rep",
]


def generate(path: Path, lines: int, customers: int = 50_000, skus: int = 5_000,
             reps: int = 50, seed: float = 0.42) -> None:
    """Write the synthetic workspace: customers with their own active window and rep."""
    with Workspace.open(path) as ws:
        con = ws.con
        con.execute(f"SELECT setseed({seed})")
        con.execute(f"""
            INSERT INTO reps (rep_id, name, team, manager_id, role, model, active_from)
            SELECT 'r' || i, 'Rep ' || i, 'team' || (i % 5), 'm' || (i % 5), 'rep',
                   CASE WHEN i % 2 = 0 THEN 'centre' ELSE 'account' END,
                   DATE '2021-01-01' + CAST(i * 7 AS INTEGER)
            FROM range({reps}) t(i)""")
        con.execute(f"""
            INSERT INTO products (sku, name, category, unit_cost, list_price, active)
            SELECT 's' || i, 'Product ' || i, 'cat' || (i % 50), 0, 0, true
            FROM range({skus}) t(i)""")
        con.execute(f"""
            INSERT INTO customers (customer_id, name, rep_id, region, segment, created_at)
            SELECT 'c' || i, 'Customer ' || i, 'r' || (i % {reps}), 'region' || (i % 7),
                   CASE WHEN i % 10 = 0 THEN 'key' ELSE 'smb' END, DATE '2021-06-01'
            FROM range({customers}) t(i)""")
        con.execute(f"""
            INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, sku,
                                       quantity, net_revenue, cost, rep_id, channel)
            WITH raw AS (
                SELECT i, CAST(floor(pow(random(), 2) * {customers}) AS BIGINT) AS c,
                       CAST(floor(random() * {skus}) AS BIGINT) AS s,
                       random() AS u, random() AS v, random() AS w
                FROM range({lines}) t(i)
            ), shaped AS (
                SELECT *, hash(c) % 24 AS start_m, 6 + hash(c * 7) % 31 AS life_m,
                       CASE WHEN w < 0.03 THEN -1 ELSE 1 END AS sign
                FROM raw
            )
            SELECT 'I' || (i // 4), i % 4 + 1,
                   LEAST(DATE '2024-12-31', DATE '2022-01-01'
                         + CAST(start_m * 30 + floor(u * life_m * 30) AS INTEGER)),
                   'c' || c, 's' || s, sign * (1 + floor(v * 20)),
                   CAST(sign * (1 + floor(v * 20)) * (5 + (s % 200)) AS DECIMAL(18, 4)),
                   CAST(sign * (1 + floor(v * 20)) * (5 + (s % 200)) * 0.7 AS DECIMAL(18, 4)),
                   CASE WHEN u < 0.9 THEN 'r' || (c % {reps}) ELSE 'r' || (s % {reps}) END,
                   CASE WHEN c % 3 = 0 THEN 'web' ELSE 'field' END
            FROM shaped""")
        con.execute("CHECKPOINT")


HAND_SQL = """
WITH lines AS NOT MATERIALIZED (
    SELECT rep_id, customer_id, sku, net_revenue, cost,
           CAST(date_trunc('month', invoice_date) AS DATE) AS p
    FROM invoice_lines
), base AS (
    SELECT p, rep_id, sum(net_revenue) AS revenue,
           sum(net_revenue) - coalesce(sum(cost), 0) AS gross_profit
    FROM lines GROUP BY ALL
), per_sku AS (
    SELECT p, rep_id, customer_id, sku, sum(net_revenue) AS rev FROM lines GROUP BY ALL
), pc AS (
    SELECT p, rep_id, customer_id, sum(rev) AS rev, count(*) FILTER (WHERE rev > 0) AS n
    FROM per_sku GROUP BY ALL
), status AS (
    SELECT p, customer_id FROM pc GROUP BY ALL HAVING sum(rev) > 0
), first_p AS (
    SELECT customer_id, min(p) AS fp FROM status GROUP BY ALL
), cust AS (
    SELECT pc.p, pc.rep_id,
           count(*) FILTER (WHERE rev > 0) AS active,
           sum(rev) AS revenue,
           count(*) FILTER (WHERE rev > 0 AND f.fp = pc.p) AS new_c,
           count(*) FILTER (WHERE rev > 0 AND s.customer_id IS NULL
                            AND f.fp < CAST(pc.p - INTERVAL 1 MONTH AS DATE)) AS reactivated,
           avg(n) FILTER (WHERE rev > 0) AS unique_skus
    FROM pc
    LEFT JOIN first_p f ON f.customer_id = pc.customer_id
    LEFT JOIN status s ON s.customer_id = pc.customer_id
                      AND s.p = CAST(pc.p - INTERVAL 1 MONTH AS DATE)
    GROUP BY ALL
), churn AS (
    SELECT CAST(pc.p + INTERVAL 1 MONTH AS DATE) AS p, pc.rep_id,
           count(*) FILTER (WHERE rev > 0 AND s.customer_id IS NULL) AS churned,
           count(*) FILTER (WHERE rev > 0) AS was,
           sum(rev) FILTER (WHERE rev > 0 AND s.customer_id IS NULL) AS lost,
           sum(rev) AS prev_revenue
    FROM pc
    LEFT JOIN status s ON s.customer_id = pc.customer_id
                      AND s.p = CAST(pc.p + INTERVAL 1 MONTH AS DATE)
    WHERE CAST(pc.p + INTERVAL 1 MONTH AS DATE) <= (SELECT max(p) FROM status)
    GROUP BY ALL
), periods AS (
    SELECT DISTINCT p FROM pc
), events AS (  -- each month's revenue enters the trailing window, and leaves it 12 months later
    SELECT rep_id, customer_id, p AS at_month, rev AS d, 1 AS n FROM pc
    UNION ALL
    SELECT rep_id, customer_id, CAST(p + INTERVAL 12 MONTH AS DATE), -rev, -1 FROM pc
), held AS (
    SELECT rep_id, customer_id, at_month, sum(d) OVER w AS rev, sum(n) OVER w AS months,
           lead(at_month) OVER w AS next_at
    FROM events
    WINDOW w AS (PARTITION BY rep_id, customer_id ORDER BY at_month, n
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), t12 AS (
    SELECT periods.p, held.rep_id, CAST(held.rev AS DOUBLE) AS rev
    FROM periods JOIN held ON periods.p >= held.at_month AND periods.p < held.next_at
    WHERE held.months > 0
), top5 AS (
    SELECT p, rep_id, sum(rev) FILTER (WHERE rk <= 3) AS s3, sum(rev) AS s5
    FROM (SELECT p, rep_id, rev,
                 row_number() OVER (PARTITION BY p, rep_id ORDER BY rev DESC) AS rk
          FROM t12 QUALIFY rk <= 5)
    GROUP BY ALL
), conc AS (
    SELECT a.p, a.rep_id, a.top1, t.s3 / NULLIF(a.total, 0) AS top3,
           t.s5 / NULLIF(a.total, 0) AS top5, a.hhi
    FROM (SELECT p, rep_id, max(rev) / NULLIF(sum(rev), 0) AS top1, sum(rev) AS total,
                 sum(rev * rev) / NULLIF(sum(rev) * sum(rev), 0) AS hhi
          FROM t12 GROUP BY ALL) a
    LEFT JOIN top5 t ON t.p = a.p AND t.rep_id IS NOT DISTINCT FROM a.rep_id
), active_reps AS (
    SELECT b.p, r.rep_id, count(DISTINCT r.rep_id) AS n
    FROM (SELECT DISTINCT p FROM base) b CROSS JOIN reps r
    WHERE (r.active_from IS NULL OR r.active_from < CAST(b.p + INTERVAL 1 MONTH AS DATE))
      AND (r.active_to IS NULL OR r.active_to >= b.p)
    GROUP BY ALL
), wide AS (
    SELECT k.p, k.rep_id,
           b.revenue, b.gross_profit,
           CAST(b.gross_profit AS DOUBLE) / NULLIF(CAST(b.revenue AS DOUBLE), 0) AS gross_margin,
           c.active AS active_customers, c.new_c AS new_customers,
           c.reactivated AS reactivated_customers, c.unique_skus AS unique_skus_per_customer,
           ch.churned AS churned_customers,
           CAST(ch.churned AS DOUBLE) / NULLIF(ch.was, 0) AS churn_rate,
           CAST(coalesce(ch.lost, 0) AS DOUBLE) / NULLIF(CAST(ch.prev_revenue AS DOUBLE), 0)
               AS revenue_churn_rate,
           CAST(c.revenue AS DOUBLE) / NULLIF(c.active, 0) AS arpa,
           {conc_columns}
           CAST(b.revenue AS DOUBLE) / NULLIF(ar.n, 0) AS revenue_per_rep
    FROM (SELECT p, rep_id FROM base UNION SELECT p, rep_id FROM churn
          {conc_keys}) k
    LEFT JOIN base b ON b.p = k.p AND b.rep_id IS NOT DISTINCT FROM k.rep_id
    LEFT JOIN cust c ON c.p = k.p AND c.rep_id IS NOT DISTINCT FROM k.rep_id
    LEFT JOIN churn ch ON ch.p = k.p AND ch.rep_id IS NOT DISTINCT FROM k.rep_id
    {conc_join}
    LEFT JOIN active_reps ar ON ar.p = k.p AND ar.rep_id IS NOT DISTINCT FROM k.rep_id
)
SELECT w.*, {previous}
FROM wide w LEFT JOIN wide pw ON pw.p = CAST(w.p - INTERVAL 1 MONTH AS DATE)
                             AND pw.rep_id IS NOT DISTINCT FROM w.rep_id
ORDER BY w.p, w.rep_id
"""


def hand_sql(kpis: list[str]) -> str:
    """The hand-written query for ``kpis`` (all of KPIS, or all but the concentration ones)."""
    previous = ", ".join(
        f"pw.{k} AS {k}__previous, w.{k} - pw.{k} AS {k}__change" for k in kpis
    )
    with_conc = set(CONCENTRATION) <= set(kpis)
    parts = {
        "{conc_keys}": "UNION SELECT p, rep_id FROM conc" if with_conc else "",
        "{conc_columns}": "co.top1 AS concentration_top1, co.top3 AS concentration_top3, "
        "co.top5 AS concentration_top5, co.hhi," if with_conc else "",
        "{conc_join}": "LEFT JOIN conc co ON co.p = k.p "
        "AND co.rep_id IS NOT DISTINCT FROM k.rep_id" if with_conc else "",
        "{previous}": previous,
    }
    sql = HAND_SQL
    for marker, text in parts.items():
        sql = sql.replace(marker, text)
    return sql


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def check_same(registry: dict[str, pa.Table], hand: pa.Table) -> int:
    """Compare every registry value with the hand-written one; return the values compared."""
    index = {(p, r): i for i, (p, r) in enumerate(zip(
        hand["p"].to_pylist(), hand["rep_id"].to_pylist(), strict=True))}
    compared = 0
    for name, table in registry.items():
        hand_values = hand[name].to_pylist()
        hand_prev = hand[f"{name}__previous"].to_pylist()
        for p, rep, value, prev in zip(
            table["period"].to_pylist(), table["rep_id"].to_pylist(),
            table["value"].to_pylist(), table["previous"].to_pylist(), strict=True,
        ):
            i = index[(p, rep)]
            if not (_close(value, hand_values[i]) and _close(prev, hand_prev[i])):
                raise AssertionError(f"{name} {p} {rep}: registry {value}/{prev}, "
                                     f"hand {hand_values[i]}/{hand_prev[i]}")
            compared += 1
    return compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"bench_{args.lines}.duckdb"
    if not path.exists():
        t0 = time.perf_counter()
        generate(path, args.lines)
        print(f"generated {args.lines:,} invoice lines in {time.perf_counter() - t0:.1f} s")
    backend = ibis.duckdb.connect(str(path), read_only=True, threads=args.threads)
    con: duckdb.DuckDBPyConnection = backend.con
    rows = con.execute("SELECT count(*) FROM invoice_lines").fetchone()
    print(f"workspace {path}: {rows[0] if rows else 0:,} lines, {args.threads} threads")

    without = [k for k in KPIS if k not in CONCENTRATION]
    print(f"{'KPI set':<44}{'registry s':>12}{'hand SQL s':>12}{'ratio':>7}"
          f"{'registry cpu':>14}{'hand cpu':>10}{'ratio':>7}")
    for label, kpis in (("all transaction KPIs (16)", KPIS),
                        ("without trailing-12-month concentration (12)", without)):
        (reg, reg_cpu), (hw, hw_cpu), compared = run(backend, con, kpis, args.repeat)
        print(f"{label:<44}{reg:>12.2f}{hw:>12.2f}{reg / hw:>7.2f}"
              f"{reg_cpu:>14.2f}{hw_cpu:>10.2f}{reg_cpu / hw_cpu:>7.2f}"
              f"   ({compared:,} values equal)")
    print(f"wall-clock and process CPU seconds, best of {args.repeat} runs "
          f"(CPU time is robust to other load on the machine)")
    print(f"KPIs by month x rep: {', '.join(KPIS)}")


Timing = tuple[float, float]  # wall-clock seconds, process CPU seconds


def run(backend: Any, con: duckdb.DuckDBPyConnection, kpis: list[str],
        repeat: int) -> tuple[Timing, Timing, int]:
    """Best-of-``repeat`` times of the registry and the hand-written query, values compared."""
    registry_times: list[Timing] = []
    hand_times: list[Timing] = []
    registry: dict[str, pa.Table] = {}
    hand = pa.table({})
    sql = hand_sql(kpis)
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        registry = compute_kpis(backend, kpis, ("rep",), "month")
        registry_times.append((time.perf_counter() - t0, time.process_time() - c0))
        t0, c0 = time.perf_counter(), time.process_time()
        hand = con.sql(sql).to_arrow_table()
        hand_times.append((time.perf_counter() - t0, time.process_time() - c0))
    compared = check_same(registry, hand)
    return min(registry_times), min(hand_times), compared


if __name__ == "__main__":
    main()
