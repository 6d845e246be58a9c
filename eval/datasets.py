"""Build a workspace from each public dataset in ../shared/datasets, through the normal importer.

Single-file datasets use a mapping file (eval/mappings/); datasets whose lines and orders live in
separate files are joined by a SQL query on an in-memory DuckDB (``--from-sql duckdb://``), the
way a user would pull lines out of an ERP database. Every import is checked like any user file.

    python eval/datasets.py NAME [--workspace PATH]    # NAME: see --help
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from salesradar.io import import_file, import_sql
from salesradar.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
MAPPINGS = ROOT / "eval" / "mappings"
CACHE = ROOT / "eval" / ".cache"


def _csv(dataset: str, name: str) -> str:
    path = SHARED / dataset / name
    return "read_csv('" + str(path).replace("'", "''") + "', header = true)"


def _sql(ws: Workspace, table: str, query: str) -> None:
    import_sql(ws, table, "duckdb://", query)


def load_uci(ws: Workspace) -> None:
    import_file(ws, "invoice_lines", SHARED / "uci_online_retail" / "online_retail.parquet",
                MAPPINGS / "uci_online_retail.yaml")


def load_uci_ii(ws: Workspace) -> None:
    import_file(ws, "invoice_lines",
                SHARED / "uci_online_retail_ii" / "online_retail_ii_2009_2010.parquet",
                MAPPINGS / "uci_online_retail_ii.yaml")


def load_uci_2y(ws: Workspace) -> None:
    """Online Retail II's first year, then Online Retail I: the same wholesaler, 2009-12..2011-12.

    The files overlap on 2010-12-01..09 with the same 14,803 lines (same invoices, customers,
    SKUs, quantities and prices). The second import upserts on (invoice_id, line_no), so the
    overlap is not doubled: 392,026 lines are new, 14,721 unchanged and 82 replaced (the same
    lines numbered in another order within their invoice), 809,560 lines in all.
    """
    load_uci_ii(ws)
    load_uci(ws)


def load_superstore(ws: Workspace) -> None:
    source = _csv("superstore", "sample_superstore.csv")
    _sql(ws, "customers", f"""
        SELECT "Customer ID" AS customer_id, any_value("Customer Name") AS name,
               any_value("Segment") AS segment, any_value("Region") AS region
        FROM {source} GROUP BY 1""")
    _sql(ws, "products", f"""
        SELECT "Product ID" AS sku, any_value("Product Name") AS name,
               any_value("Category") AS category
        FROM {source} GROUP BY 1""")
    import_file(ws, "invoice_lines", SHARED / "superstore" / "sample_superstore.csv",
                MAPPINGS / "superstore.yaml")


def load_northwind(ws: Workspace) -> None:
    def csv(name: str) -> str:
        return _csv("northwind", name)

    _sql(ws, "reps", f"""
        SELECT employee_id AS rep_id, first_name || ' ' || last_name AS name, title AS role,
               reports_to AS manager_id, hire_date AS active_from FROM {csv('employees.csv')}""")
    _sql(ws, "customers", f"""
        SELECT customer_id, company_name AS name, country AS region
        FROM {csv('customers.csv')}""")
    _sql(ws, "products", f"""
        SELECT p.product_id AS sku, p.product_name AS name, c.category_name AS category,
               p.unit_price AS list_price, p.discontinued = 0 AS active
        FROM {csv('products.csv')} p JOIN {csv('categories.csv')} c USING (category_id)""")
    _sql(ws, "invoice_lines", f"""
        SELECT o.order_id AS invoice_id,
               row_number() OVER (PARTITION BY o.order_id ORDER BY d.product_id) AS line_no,
               o.order_date AS invoice_date, o.customer_id, d.product_id AS sku, d.quantity,
               round(d.unit_price * d.quantity * (1 - d.discount), 4) AS net_revenue,
               o.employee_id AS rep_id, o.ship_country AS channel
        FROM {csv('orders.csv')} o JOIN {csv('order_details.csv')} d USING (order_id)""")


def load_classicmodels(ws: Workspace) -> None:
    def csv(name: str) -> str:
        return _csv("classicmodels", name)

    _sql(ws, "reps", f"""
        SELECT employeeNumber AS rep_id, firstName || ' ' || lastName AS name, email,
               officeCode AS team, reportsTo AS manager_id, jobTitle AS role
        FROM {csv('employees.csv')}""")
    _sql(ws, "customers", f"""
        SELECT customerNumber AS customer_id, customerName AS name,
               salesRepEmployeeNumber AS rep_id, country AS region
        FROM {csv('customers.csv')}""")
    _sql(ws, "products", f"""
        SELECT productCode AS sku, productName AS name, productLine AS category,
               buyPrice AS unit_cost, MSRP AS list_price FROM {csv('products.csv')}""")
    _sql(ws, "invoice_lines", f"""
        SELECT o.orderNumber AS invoice_id, d.orderLineNumber AS line_no,
               o.orderDate AS invoice_date, o.customerNumber AS customer_id,
               d.productCode AS sku, d.quantityOrdered AS quantity,
               d.quantityOrdered * d.priceEach AS net_revenue,
               d.quantityOrdered * p.buyPrice AS cost, c.salesRepEmployeeNumber AS rep_id
        FROM {csv('orders.csv')} o
        JOIN {csv('orderdetails.csv')} d USING (orderNumber)
        JOIN {csv('products.csv')} p USING (productCode)
        JOIN {csv('customers.csv')} c USING (customerNumber)
        WHERE o.status <> 'Cancelled'""")
    _sql(ws, "payments", f"""
        SELECT checkNumber AS invoice_id, customerNumber AS customer_id,
               paymentDate AS paid_date, amount FROM {csv('payments.csv')}""")


def load_maven_crm(ws: Workspace) -> None:
    def csv(name: str) -> str:
        return _csv("maven_crm_sales_opportunities", name)

    _sql(ws, "reps", f"""
        SELECT sales_agent AS rep_id, sales_agent AS name, regional_office AS team,
               'account' AS model FROM {csv('sales_teams.csv')}""")
    _sql(ws, "customers", f"""
        SELECT account AS customer_id, account AS name,
               replace(sector, 'technolgy', 'technology') AS industry,
               office_location AS region FROM {csv('accounts.csv')}""")
    # Prospecting deals have no engage date: they are not yet deals the funnel can date, so
    # they are left out (500 rows, all open).
    _sql(ws, "deals", f"""
        SELECT opportunity_id AS deal_id, account AS customer_id, sales_agent AS owner_rep_id,
               replace(s.product, 'GTXPro', 'GTX Pro') AS pipeline, deal_stage AS stage,
               coalesce(close_value, p.sales_price) AS amount, engage_date AS created_at,
               close_date, deal_stage AS outcome
        FROM {csv('sales_pipeline.csv')} s
        LEFT JOIN {csv('products.csv')} p ON p.product = replace(s.product, 'GTXPro', 'GTX Pro')
        WHERE engage_date IS NOT NULL""")


def load_cdnow(ws: Workspace) -> None:
    """CDNOW: customer, date, CDs and dollars; no product ids, so one SKU for all purchases."""
    path = str(SHARED / "cdnow" / "CDNOW_sample.txt").replace("'", "''")
    _sql(ws, "invoice_lines", f"""
        WITH raw AS (
            SELECT string_split_regex(trim(column0), '\\s+') AS f, row_number() OVER () AS n
            FROM read_csv('{path}', header = false, delim = '\\t',
                          columns = {{'column0': 'VARCHAR'}}))
        SELECT 'T' || n AS invoice_id, 1 AS line_no,
               strptime(f[3], '%Y%m%d')::DATE AS invoice_date,
               f[2] AS customer_id, 'CD' AS sku, CAST(f[4] AS DOUBLE) AS quantity,
               CAST(f[5] AS DOUBLE) AS net_revenue
        FROM raw""")


@dataclass(frozen=True)
class Dataset:
    """A public dataset: how to load it, and the currency its amounts are in (the company's
    ``currency`` setting a user of that data would choose: every amount in a text is written
    with its sign)."""

    name: str
    load: Callable[[Workspace], None]
    currency: str
    has_products: bool = True


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    # a UK wholesaler: UnitPrice in sterling (its SOURCE.md)
    Dataset("uci_online_retail", load_uci, "GBP"),
    Dataset("uci_online_retail_ii", load_uci_ii, "GBP"),
    Dataset("uci_online_retail_2y", load_uci_2y, "GBP"),
    # US dollars: the US retailer Superstore, the Northwind Traders and classicmodels sample
    # databases (prices written in $), Maven's CRM (revenue in USD) and CDNOW ("dollars")
    Dataset("superstore", load_superstore, "USD"),
    Dataset("northwind", load_northwind, "USD"),
    Dataset("classicmodels", load_classicmodels, "USD"),
    Dataset("maven_crm", load_maven_crm, "USD", has_products=False),
    Dataset("cdnow", load_cdnow, "USD", has_products=False),
)}


def workspace_for(name: str, path: Path | None = None, *, rebuild: bool = False) -> Path:
    """The workspace file of a dataset, built on first use (or when ``rebuild``)."""
    target = path or CACHE / f"{name}.duckdb"
    if target.exists() and not rebuild:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in (target, Path(str(target) + ".wal")):
        stale.unlink(missing_ok=True)
    with Workspace.open(target) as ws:
        DATASETS[name].load(ws)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=[*DATASETS, "all"])
    parser.add_argument("--workspace", type=Path)
    args = parser.parse_args()
    names = list(DATASETS) if args.name == "all" else [args.name]
    for name in names:
        path = workspace_for(name, None if args.name == "all" else args.workspace, rebuild=True)
        with Workspace.open(path, read_only=True) as ws:
            counts = {t.name: t.rows for t in ws.status().tables if t.rows}
        print(f"{name}: {path} {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
