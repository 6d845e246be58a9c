"""Does a silence past a customer's rhythm mean it is leaving, when it paused longer before?

The churn alert calls a customer "drifting" when it is past its rhythm (DESIGN.md: the median gap
between its purchase days, with 3+ of them). Some of those customers have paused longer before
and came back. This check asks the public datasets how such customers behave: at four cutoffs
(90, 180, 270 and 365 days before the last 90 days of data), every customer with 3+ purchase days
on or before the cutoff is put in one class by its silence at the cutoff, and the share of each
class that bought again within the next 90 days is counted (the four cutoffs pooled):

- within its rhythm: silent no longer than its median gap;
- past its rhythm, not past its longest pause (the longest gap between its purchase days);
- past its longest pause too, silent up to 180 days (the churn alert's *drifting*);
- past its longest pause, silent over 180 days (``churn_lost_days``: *stopped ordering*).

A purchase day is a customer-day whose positive lines (quantity and net revenue above 0) sum
above 0, as everywhere in salesradar. The queries are written here on their own, from the raw
invoice lines, not with salesradar's code: this is evidence for the rule, not a test of it.

    python eval/pauses.py [uci_online_retail ... demo] [--cache DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
from pathlib import Path
from typing import Any

import duckdb

HERE = Path(__file__).resolve().parent
DATASETS = ("uci_online_retail", "uci_online_retail_ii", "superstore", "northwind",
            "classicmodels", "demo")
BACKS = (90, 180, 270, 365)
HORIZON = 90
LOST_DAYS = 180
CLASSES = ("within its rhythm", "past its rhythm, not past its longest pause",
           f"past its longest pause, silent up to {LOST_DAYS} days",
           f"past its longest pause, silent over {LOST_DAYS} days")


def _truth_audit() -> Any:
    spec = importlib.util.spec_from_file_location("salesradar_eval_truth_audit",
                                                  HERE / "truth_audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def came_back(path: Path) -> dict[str, tuple[int, int]]:
    """Per class: (customers, of them who bought again within :data:`HORIZON` days)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        end = con.sql("SELECT max(invoice_date)::DATE FROM invoice_lines").fetchone()
        assert end is not None and end[0] is not None
        con.execute("""
            CREATE TEMP TABLE bought AS
            SELECT customer_id::VARCHAR AS customer_id, invoice_date::DATE AS day
            FROM invoice_lines WHERE customer_id IS NOT NULL
            GROUP BY ALL
            HAVING sum(CASE WHEN quantity > 0 AND net_revenue > 0 THEN net_revenue ELSE 0 END)
                   > 0""")
        out = {c: (0, 0) for c in CLASSES}
        for back in BACKS:
            cutoff = end[0] - dt.timedelta(days=back + HORIZON)
            rows = con.execute(f"""
                WITH h AS (SELECT customer_id, day,
                                  day - lag(day) OVER (PARTITION BY customer_id ORDER BY day)
                                    AS gap
                           FROM bought WHERE day <= $cutoff),
                c AS (SELECT customer_id, median(gap) AS rhythm, max(gap) AS longest,
                             $cutoff - max(day) AS silent
                      FROM h GROUP BY customer_id HAVING count(*) >= 3),
                back AS (SELECT DISTINCT customer_id FROM bought
                         WHERE day > $cutoff AND day <= $cutoff + {HORIZON})
                SELECT CASE WHEN silent <= rhythm THEN 0 WHEN silent <= longest THEN 1
                            WHEN silent <= {LOST_DAYS} THEN 2 ELSE 3 END AS class,
                       count(*) AS n, count(back.customer_id) AS returned
                FROM c LEFT JOIN back USING (customer_id)
                GROUP BY class""", {"cutoff": cutoff}).fetchall()
            for k, n, returned in rows:
                total, again = out[CLASSES[k]]
                out[CLASSES[k]] = (total + n, again + returned)
        return out
    finally:
        con.close()


def table(results: dict[str, dict[str, tuple[int, int]]]) -> str:
    """A markdown table: one row per class, one column per dataset ("share (n)")."""
    names = list(results)
    lines = ["| silent at the cutoff | " + " | ".join(names) + " |",
             "|---|" + "---:|" * len(names)]
    for c in CLASSES:
        cells = []
        for name in names:
            n, again = results[name][c]
            cells.append(f"{again / n:.1%} ({n:,})" if n else "–")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--cache", type=Path, default=HERE / ".cache" / "truth_audit")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    audit = _truth_audit()
    results = {name: came_back(audit.workspace(name, args.cache)) for name in args.datasets}
    print(f"## Customers who bought again within {HORIZON} days, by their silence at the "
          f"cutoff (cutoffs {', '.join(map(str, BACKS))} days before the last {HORIZON} days "
          "of data, pooled)\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
