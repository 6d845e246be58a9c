"""The small hand-made workspace every KPI case is computed on by hand.

Three reps (r1, r2 in team A under m1; r3 in team B under m2, who left on 2024-01-31; r2 started
2024-02-01), four customers, three SKUs, fifteen invoice lines from Dec 2023 to Mar 2024, eight
deals, five leads, eleven activities, targets, forecasts, payments and cost to serve. The tests in
``test_kpis.py`` work every expected number out from these rows in their comments.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from salesradar.schema import TABLES, ColumnType

ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.ID: pa.string(),
    ColumnType.TEXT: pa.string(),
    ColumnType.ENUM: pa.string(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("us"),
    ColumnType.PERIOD: pa.date32(),
    ColumnType.MONEY: pa.decimal128(18, 4),
    ColumnType.NUMBER: pa.float64(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.BOOLEAN: pa.bool_(),
}


def arrow_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """``rows`` as an Arrow table with every canonical column of ``name`` and its storage type."""
    spec = TABLES[name]
    schema = pa.schema([(c.name, ARROW_TYPES[c.type]) for c in spec.columns])
    cols = {}
    for col in spec.columns:
        values = [row.get(col.name) for row in rows]
        if col.type is ColumnType.MONEY:
            values = [None if v is None else Decimal(str(v)) for v in values]
        cols[col.name] = pa.array(values, schema.field(col.name).type)
    return pa.table(cols, schema=schema)


def _line(n: int, day: date, customer: str, sku: str, qty: float, rev: float, cost: float,
          rep: str, channel: str) -> dict[str, Any]:
    return {"invoice_id": f"I{n}", "line_no": 1, "invoice_date": day, "customer_id": customer,
            "sku": sku, "quantity": qty, "net_revenue": rev, "cost": cost, "rep_id": rep,
            "channel": channel}


D = date
T = datetime
INVOICE_LINES = [
    _line(1, D(2023, 12, 10), "c1", "s1", 10, 100, 60, "r1", "field"),
    _line(2, D(2023, 12, 15), "c3", "s3", 2, 40, 30, "r3", "phone"),
    _line(3, D(2024, 1, 5), "c1", "s1", 10, 100, 60, "r1", "field"),
    _line(4, D(2024, 1, 6), "c1", "s2", 5, 50, 20, "r1", "field"),
    _line(5, D(2024, 1, 10), "c2", "s1", 20, 200, 120, "r3", "phone"),
    _line(6, D(2024, 1, 20), "c3", "s3", 1, 20, 15, "r3", "phone"),
    _line(7, D(2024, 2, 3), "c1", "s1", 12, 120, 72, "r1", "field"),
    _line(8, D(2024, 2, 5), "c2", "s1", 10, 110, 60, "r2", "web"),
    _line(9, D(2024, 2, 7), "c2", "s2", 4, 40, 16, "r2", "web"),
    _line(10, D(2024, 2, 9), "c1", "s2", -1, -10, -4, "r1", "field"),
    _line(11, D(2024, 2, 20), "c4", "s3", 3, 60, 45, "r2", "web"),
    _line(12, D(2024, 3, 4), "c3", "s3", 2, 40, 30, "r1", "field"),
    _line(13, D(2024, 3, 10), "c2", "s1", 5, 55, 30, "r2", "web"),
    _line(14, D(2024, 3, 12), "c4", "s3", 1, 20, 15, "r2", "web"),
    _line(15, D(2024, 3, 15), "c4", "s3", -1, -20, -15, "r2", "web"),
]

TABLE_ROWS: dict[str, list[dict[str, Any]]] = {
    "invoice_lines": INVOICE_LINES,
    "customers": [
        {"customer_id": "c1", "region": "North", "segment": "key", "industry": "retail",
         "potential": 1000},
        {"customer_id": "c2", "region": "North", "segment": "smb", "industry": "food"},
        {"customer_id": "c3", "region": "South", "segment": "smb", "industry": "retail",
         "potential": 400},
        {"customer_id": "c4", "region": "South", "segment": "key", "industry": "food",
         "potential": 200},
    ],
    "products": [
        {"sku": "s1", "category": "X"}, {"sku": "s2", "category": "X"},
        {"sku": "s3", "category": "Y"},
    ],
    "reps": [
        {"rep_id": "r1", "team": "A", "manager_id": "m1", "model": "account",
         "active_from": D(2023, 1, 1)},
        {"rep_id": "r2", "team": "A", "manager_id": "m1", "model": "centre",
         "active_from": D(2024, 2, 1)},
        {"rep_id": "r3", "team": "B", "manager_id": "m2", "model": "centre",
         "active_from": D(2023, 1, 1), "active_to": D(2024, 1, 31)},
    ],
    "cost_to_serve": [
        {"customer_id": "c1", "period": D(2024, 1, 1), "grain": "month", "kind": "service",
         "amount": 10},
        {"customer_id": "c1", "period": D(2024, 1, 1), "grain": "month", "kind": "logistics",
         "amount": 5},
        {"customer_id": "c2", "period": D(2024, 2, 1), "grain": "month", "kind": "service",
         "amount": 100},
        {"customer_id": "c3", "period": D(2024, 3, 1), "grain": "month", "kind": "support",
         "amount": 27},
    ],
    "payments": [
        {"invoice_id": "I3", "customer_id": "c1", "due_date": D(2024, 2, 4),
         "paid_date": D(2024, 2, 14), "amount": 100},
        {"invoice_id": "I5", "customer_id": "c2", "due_date": D(2024, 2, 9),
         "paid_date": D(2024, 2, 9), "amount": 200},
        {"invoice_id": "I7", "customer_id": "c1", "due_date": D(2024, 3, 4),
         "paid_date": D(2024, 3, 4), "amount": 120},
        {"invoice_id": "I8", "customer_id": "c2", "due_date": D(2024, 3, 6), "amount": 110},
    ],
    "deals": [
        {"deal_id": "D1", "owner_rep_id": "r1", "customer_id": "c1", "amount": 1000,
         "created_at": D(2024, 1, 1), "close_date": D(2024, 1, 31), "outcome": "won"},
        {"deal_id": "D2", "owner_rep_id": "r1", "customer_id": "c1", "amount": 500,
         "created_at": D(2024, 1, 10), "close_date": D(2024, 1, 20), "outcome": "lost"},
        {"deal_id": "D3", "owner_rep_id": "r2", "customer_id": "c2", "amount": 300,
         "created_at": D(2024, 1, 15), "close_date": D(2024, 2, 14), "outcome": "won"},
        {"deal_id": "D4", "owner_rep_id": "r2", "customer_id": "c4", "amount": 200,
         "created_at": D(2024, 2, 1), "close_date": D(2024, 2, 25), "outcome": "lost"},
        {"deal_id": "D5", "owner_rep_id": "r1", "customer_id": "c3", "amount": 2000,
         "created_at": D(2024, 2, 1), "close_date": D(2024, 3, 15), "outcome": "open",
         "forecast_category": "commit"},
        {"deal_id": "D6", "owner_rep_id": "r1", "customer_id": "c1", "amount": 1000,
         "created_at": D(2024, 2, 10), "close_date": D(2024, 3, 20), "outcome": "open",
         "forecast_category": "best case"},
        {"deal_id": "D7", "owner_rep_id": "r2", "customer_id": "c2", "amount": 500,
         "created_at": D(2024, 2, 15), "close_date": D(2024, 3, 30), "outcome": "open"},
        {"deal_id": "D8", "owner_rep_id": "r2", "customer_id": "c2", "amount": 400,
         "created_at": D(2024, 3, 1), "close_date": D(2024, 3, 10), "outcome": "won"},
        # no close date: in no period, so in no KPI
        {"deal_id": "D9", "owner_rep_id": "r1", "customer_id": "c1", "amount": 777,
         "created_at": D(2024, 3, 1), "outcome": "open", "forecast_category": "commit"},
    ],
    "deal_stage_history": [  # "closed..." stages mark how a deal ended; D6, D8, D9 have none
        {"deal_id": "D1", "stage": "qualify", "entered_at": T(2024, 1, 1, 9)},
        {"deal_id": "D1", "stage": "proposal", "entered_at": T(2024, 1, 11, 9)},
        {"deal_id": "D1", "stage": "closed_won", "entered_at": T(2024, 1, 31, 9)},
        {"deal_id": "D2", "stage": "qualify", "entered_at": T(2024, 1, 10)},
        {"deal_id": "D2", "stage": "closed_lost", "entered_at": T(2024, 1, 20)},
        {"deal_id": "D3", "stage": "qualify", "entered_at": T(2024, 1, 15)},
        {"deal_id": "D3", "stage": "proposal", "entered_at": T(2024, 1, 25)},
        {"deal_id": "D4", "stage": "qualify", "entered_at": T(2024, 2, 1)},
        {"deal_id": "D4", "stage": "proposal", "entered_at": T(2024, 2, 11)},
        {"deal_id": "D4", "stage": "closed_lost", "entered_at": T(2024, 2, 25)},
        {"deal_id": "D5", "stage": "qualify", "entered_at": T(2024, 2, 1)},
        {"deal_id": "D5", "stage": "proposal", "entered_at": T(2024, 3, 1)},
        {"deal_id": "D7", "stage": "qualify", "entered_at": T(2024, 2, 15)},
    ],
    "targets": [
        {"rep_id": "r1", "period": D(2024, 3, 1), "grain": "month", "metric": "revenue",
         "value": 1200.0},
        {"rep_id": "r2", "period": D(2024, 3, 1), "grain": "month", "metric": "revenue",
         "value": 500.0},
        {"rep_id": "r1", "period": D(2024, 2, 1), "grain": "month", "metric": "revenue",
         "value": 100.0},
        {"rep_id": "r2", "period": D(2024, 2, 1), "grain": "month", "metric": "revenue",
         "value": 300.0},
        {"rep_id": "r1", "period": D(2024, 1, 1), "grain": "quarter", "metric": "revenue",
         "value": 9999.0},  # a quarterly target: never mixed into monthly numbers
    ],
    "forecast_submissions": [
        {"rep_id": "r1", "period": D(2024, 3, 1), "grain": "month",
         "submitted_at": T(2024, 2, 25, 12), "category": "commit", "amount": 800},
        {"rep_id": "r1", "period": D(2024, 3, 1), "grain": "month",
         "submitted_at": T(2024, 3, 5, 12), "category": "commit", "amount": 50},
        {"rep_id": "r2", "period": D(2024, 3, 1), "grain": "month",
         "submitted_at": T(2024, 3, 1, 12), "category": "commit", "amount": 44,
         "measure": "revenue"},
        {"rep_id": "r2", "period": D(2024, 3, 1), "grain": "month",
         "submitted_at": T(2024, 3, 2, 12), "category": "best_case", "amount": 900},
        {"rep_id": "r2", "period": D(2024, 2, 1), "grain": "month",
         "submitted_at": T(2024, 2, 1, 12), "category": "commit", "amount": 250,
         "measure": "won_amount"},
    ],
    "leads": [
        {"lead_id": "La", "created_at": T(2024, 3, 1, 9), "owner_rep_id": "r1", "source": "web",
         "deal_id": "D8"},
        {"lead_id": "Lb", "created_at": T(2024, 3, 1, 10), "owner_rep_id": "r1",
         "source": "web"},
        {"lead_id": "Lc", "created_at": T(2024, 3, 2, 12), "owner_rep_id": "r2",
         "source": "phone", "deal_id": "D7"},
        {"lead_id": "Ld", "created_at": T(2024, 3, 3, 8), "owner_rep_id": "r2",
         "source": "phone"},
        {"lead_id": "Le", "created_at": T(2024, 2, 28, 8), "owner_rep_id": "r1",
         "source": "web"},
    ],
    "activities": [
        {"activity_id": "A1", "kind": "call", "rep_id": "r1", "lead_id": "La",
         "at": T(2024, 3, 1, 9, 30), "outcome": "answered"},
        {"activity_id": "A2", "kind": "meeting", "rep_id": "r1", "lead_id": "La",
         "at": T(2024, 3, 2, 9)},
        {"activity_id": "A3", "kind": "call", "rep_id": "r1", "lead_id": "Lb",
         "at": T(2024, 3, 1, 12), "outcome": "no_answer"},
        {"activity_id": "A4", "kind": "email", "rep_id": "r2", "lead_id": "Lc",
         "at": T(2024, 3, 2, 16)},
        {"activity_id": "A5", "kind": "meeting", "rep_id": "r2", "lead_id": "Lc",
         "at": T(2024, 3, 5, 10)},
        {"activity_id": "A6", "kind": "call", "rep_id": "r2", "lead_id": "Ld",
         "at": T(2024, 3, 3, 9), "outcome": "answered"},
        {"activity_id": "A7", "kind": "call", "rep_id": "r2", "lead_id": "Ld",
         "at": T(2024, 3, 2, 7), "outcome": "no_answer"},
        {"activity_id": "A8", "kind": "meeting", "rep_id": "r2", "lead_id": "Ld",
         "at": T(2024, 3, 4, 11)},
        {"activity_id": "A9", "kind": "call", "rep_id": "r1", "customer_id": "c1",
         "at": T(2024, 3, 1, 15), "outcome": "answered"},
        {"activity_id": "A10", "kind": "call", "rep_id": "r1", "customer_id": "c3",
         "at": T(2024, 3, 4, 10), "outcome": "answered"},
        {"activity_id": "A11", "kind": "task", "rep_id": "r1", "lead_id": "Le",
         "at": T(2024, 2, 28, 9)},
    ],
}


def tables() -> dict[str, pa.Table]:
    """Every canonical table of the hand-made workspace (empty ones included)."""
    return {name: arrow_table(name, TABLE_ROWS.get(name, [])) for name in TABLES}
