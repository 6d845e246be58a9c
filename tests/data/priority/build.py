"""Writes a Priority ERP invoice-lines export of a small demo company (run once; the outputs are
committed), for the browser test where a new admin brings data in without a mapping file.

``export.csv``: the invoice lines of ``salesradar demo-data`` (80 customers, 2 years, seed 3),
written as Priority writes them: Windows-1255, Hebrew headers, dd/mm/yyyy dates, ₪ amounts with
thousands separators and a trailing minus on returns, the agent's code in סוכן.
The browser test breaks three rows of a copy itself (a 31st of February, a quantity that is not
a number, an empty customer) to see the all-or-nothing import list them and load nothing.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
HEADER = ["מס. חשבונית", "שורה", "תאריך חשבונית", "מס. לקוח", "שם לקוח", 'מק"ט', "תאור מוצר",
          "כמות", "מחיר ליחידה", "עלות ליחידה", 'סה"כ מחיר', "סוכן"]


def _money(value: float) -> str:
    text = f"₪{abs(value):,.2f}"
    return text + "-" if value < 0 else text


def rows() -> list[list[str]]:
    """The demo company's invoice lines as Priority export rows."""
    from salesradar.demo import generate

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), customers=80, years=2, seed=3)
        data = Path(tmp)
        names = {r["customer_id"]: r["name"] for r in csv.DictReader(
            (data / "customers.csv").open(encoding="utf-8"))}
        products = {r["sku"]: r["name"] for r in csv.DictReader(
            (data / "products.csv").open(encoding="utf-8"))}
        out = []
        for r in csv.DictReader((data / "invoice_lines.csv").open(encoding="utf-8")):
            qty, revenue = float(r["quantity"]), float(r["net_revenue"])
            cost = float(r["cost"]) if r.get("cost") else None
            y, m, d = r["invoice_date"][:10].split("-")
            out.append([r["invoice_id"], r["line_no"], f"{d}/{m}/{y}", r["customer_id"],
                        names.get(r["customer_id"], ""), r["sku"], products.get(r["sku"], ""),
                        f"{qty:g}", _money(revenue / qty if qty else 0.0),
                        "" if cost is None or not qty else f"{cost / qty:.2f}", _money(revenue),
                        r["rep_id"]])
        return out


def write(path: Path, lines: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(lines)
    path.write_bytes(buffer.getvalue().encode("windows-1255", errors="replace"))


if __name__ == "__main__":
    write(HERE / "export.csv", rows())
