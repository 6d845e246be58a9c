"""Small helpers for tests (importable as ``helpers`` via pytest's pythonpath)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
MAPPINGS = Path(__file__).parents[1] / "src" / "salesradar" / "io" / "mappings"
INVOICE_HEADER = "invoice_id,line_no,invoice_date,customer_id,sku,quantity,net_revenue,cost,rep_id"


def write_csv(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> Path:
    """A CSV file from a header line and row lines (each already delimited)."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path
