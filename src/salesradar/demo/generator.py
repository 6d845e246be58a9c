"""``generate``: write a whole demo company (every canonical table and the truth folder)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from salesradar.demo import _arrow as A
from salesradar.demo.activities import write_activities, write_contacts
from salesradar.demo.catalog import Plan, build_products, build_reps
from salesradar.demo.commissions import write_commission_plan
from salesradar.demo.commitment import write_commitment
from salesradar.demo.crm import build_pipeline, new_customer_days, write_pipeline
from salesradar.demo.customers import NEW_SHARE, build_customers, plant_whales
from salesradar.demo.finance import write_cost_to_serve, write_payments
from salesradar.demo.masters import write_customers, write_products, write_reps
from salesradar.demo.orders import calibrate, simulate
from salesradar.demo.plans import write_forecasts, write_targets
from salesradar.demo.sales import plant_dropped_pairs, write_invoice_lines
from salesradar.demo.truth import write_truth
from salesradar.errors import UserInputError
from salesradar.schema.tables import LOAD_ORDER

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate` wrote."""

    out_dir: Path
    seed: int
    fmt: str
    files: dict[str, Path]  # canonical table -> file
    rows: dict[str, int]  # canonical table -> rows written
    truth: dict[str, int]  # truth file stem -> rows
    start: datetime.date
    end: datetime.date

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (paths and dates as strings)."""
        return {
            "out_dir": str(self.out_dir), "seed": self.seed, "format": self.fmt,
            "files": {k: str(v) for k, v in self.files.items()}, "rows": dict(self.rows),
            "truth": dict(self.truth), "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


def generate(
    out_dir: Path,
    *,
    customers: int = 200,
    years: int = 2,
    seed: int = 7,
    skus: int | None = None,
    reps: int | None = None,
    lines: int | None = None,
    end: datetime.date = datetime.date(2026, 10, 31),
    fmt: A.Fmt = "csv",
    progress: Progress | None = None,
) -> DemoSummary:
    """Write a realistic B2B distributor's ERP and CRM tables to ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder for ``<table>.csv`` (or ``.parquet``) files and the ``truth/`` folder.
    customers, years, skus, reps
        Size of the company and length of its history (ending on ``end``); ``skus`` and
        ``reps`` default from ``customers``.
    seed
        Same arguments and seed, byte-identical files.
    lines
        Aim for this many invoice lines (within a few percent) by scaling purchase frequency.
    fmt
        ``"csv"`` or ``"parquet"``; truth files are always CSV.
    progress
        Called with a stage name and the fraction done, as work advances.
    """
    if fmt not in ("csv", "parquet"):
        raise UserInputError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    if lines is not None and lines < 1:
        raise UserInputError("--lines must be positive")

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, min(max(fraction, 0.0), 1.0))

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = Plan.make(customers, years, skus, reps, end)
    rng = np.random.default_rng(seed)
    report("customers", 0.0)
    rep_data = build_reps(plan, rng)
    products = build_products(plan, rng)
    new_days = new_customer_days(plan, round(customers * NEW_SHARE), rng)
    cust = build_customers(plan, rep_data, products, new_days, rng)
    report("orders", 0.03)
    scale = calibrate(plan, cust, lines)
    orders = simulate(plan, cust, scale, rng)
    plant_whales(cust, products.base_price, orders.per_customer)
    dropped = plant_dropped_pairs(plan, cust, products, orders, rng)

    writers = {name: A.TableWriter(out_dir, name, fmt) for name in LOAD_ORDER}
    try:
        report("invoice lines", 0.05)
        tot = write_invoice_lines(plan, rep_data, cust, products, orders, dropped,
                                  writers["invoice_lines"], rng,
                                  lambda f: report("invoice lines", 0.05 + 0.75 * f))
        report("payments", 0.82)
        write_payments(plan, cust, orders, tot, writers["payments"], rng)
        report("cost to serve", 0.88)
        cts = write_cost_to_serve(plan, cust, orders, tot, writers["cost_to_serve"], rng)
        report("masters", 0.9)
        write_reps(rep_data, writers["reps"])
        write_products(plan, products, writers["products"])
        write_customers(plan, rep_data, cust, tot.revenue, writers["customers"], rng)
        report("crm", 0.92)
        pipe = build_pipeline(plan, rep_data, cust, rng)
        write_pipeline(pipe, rep_data, plan, writers, rng)
        last_activity = write_activities(plan, rep_data, cust, pipe, writers["activities"], rng)
        single = write_contacts(plan, cust, last_activity, writers["contacts"], rng)
        write_targets(plan, rep_data, pipe, tot, writers["targets"], rng)
        bias = write_forecasts(plan, rep_data, tot, writers["forecast_submissions"], rng)
    finally:
        for writer in writers.values():
            writer.close()
    write_commitment(out_dir, end)  # a sample vendor commitment (commitment.yaml)
    write_commission_plan(out_dir)  # a sample commission plan (commission-plan.yaml)
    report("truth", 0.97)
    start_date = A.EPOCH + datetime.timedelta(days=plan.start)
    params = {"customers": customers, "years": years, "seed": seed, "skus": plan.skus,
              "reps": plan.reps, "lines": lines, "rate_scale": round(scale, 6),
              "start": start_date.isoformat(), "end": end.isoformat(), "format": fmt}
    truth = write_truth(out_dir / "truth", plan, rep_data, cust, products, orders, tot, cts,
                        dropped, pipe, single, bias, params)
    report("done", 1.0)
    return DemoSummary(
        out_dir=out_dir, seed=seed, fmt=fmt,
        files={name: w.path for name, w in writers.items()},
        rows={name: w.rows for name, w in writers.items()},
        truth=truth, start=start_date, end=end,
    )
