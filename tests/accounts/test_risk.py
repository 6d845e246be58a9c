"""Portfolio risk on a small workspace, computed by hand (as of 2026-06-30)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pyarrow as pa
import pytest

from performance.rows import insert, line
from salesradar.accounts.risk import portfolio_risk, with_credit_check
from salesradar.workspace import Workspace

AS_OF = dt.date(2026, 6, 30)


def _pay(invoice: str, customer: str, due: str | None, paid: str | None, amount: float
         ) -> dict[str, Any]:
    return {"invoice_id": invoice, "customer_id": customer, "due_date": due,
            "paid_date": paid, "amount": amount}


def test_concentration_credit_and_sudden_churn(ws: Workspace) -> None:
    insert(ws, "customers", [{"customer_id": c, "name": n} for c, n in
                             [("X1", "Xylo"), ("X2", "Yam"), ("X3", "Zohar")]])
    insert(ws, "invoice_lines", [line(1, "2026-04-10", "X1", "R1", 600, 0),
                                 line(2, "2026-05-10", "X2", "R1", 300, 0),
                                 line(3, "2026-06-10", "X3", "R1", 100, 0),
                                 line(4, "2025-06-01", "X3", "R1", 5000, 0)])  # > 12 months
    insert(ws, "payments", [
        _pay("I9", "X1", "2026-06-01", None, 200),          # 29 days overdue
        _pay("I2", "X2", "2026-06-20", "2026-07-05", 100),  # paid after as_of: 10 days overdue
        _pay("I3", "X3", "2026-07-15", None, 50),           # open, not due yet
        _pay("I1", "X1", "2026-05-01", "2026-05-10", 300),  # paid 30 days after invoice I1
    ])
    ws.backend.create_table("score_churn", pa.table({
        "customer_id": ["S1", "S2", "S3", "S4"],
        "gap_ratio": [4.0, 5.0, 2.0, 3.0], "days_since_last_order": [40.0, 200.0, 20.0, 90.0],
        "median_gap_days": [10.0, 40.0, 10.0, 30.0], "churn_probability": [0.2, 0.9, 0.1, 0.3],
        "expected_revenue": [1.0, 1.0, 1.0, 1.0], "value_at_stake": [900.0, 5000.0, 10.0, 100.0],
    }))
    risk = portfolio_risk(ws, as_of=AS_OF)
    c = risk["concentration"]
    # 12 months: 600 + 300 + 100 = 1,000 -> top 1 60%, top 3 = top 5 = 100%;
    # HHI 0.6² + 0.3² + 0.1² = 0.46; X1 (60%) and X2 (30%) are above 15%
    assert (c["revenue"], c["top1"], c["top3"], c["top5"]) == (
        pytest.approx(1000), pytest.approx(0.6), pytest.approx(1.0), pytest.approx(1.0))
    assert c["hhi"] == pytest.approx(0.46)
    assert c["flag"] is True
    assert [x["customer_id"] for x in c["over_threshold"]] == ["X1", "X2"]
    cr = risk["credit"]
    # overdue on 06-30: 200 (due 06-01) + 100 (due 06-20, paid only on 07-05) = 300 of
    # 350 open; DSO over payments received in 12 months: I1 paid 30 days after 04-10
    assert cr["overdue"] == pytest.approx(300)
    assert cr["open_receivables"] == pytest.approx(350)
    assert cr["overdue_share"] == pytest.approx(300 / 350)
    assert cr["dso_days"] == pytest.approx(30)
    assert [(r["customer_id"], r["days_overdue"]) for r in cr["top"]] == [("X1", 29),
                                                                           ("X2", 10)]
    # I1, I2 and I3 are invoices of the workspace, I9 is not: 3 of the 4 payments are linked
    assert (cr["available"], cr["linked_share"]) == (True, pytest.approx(0.75))
    churn = risk["sudden_churn"]
    # S1 (4× its gap, bought 40 days ago) and S4 (3×, 90 days) are sudden; S2 is long gone
    # (200 days), S3 only 2× its gap; at stake 900 + 100
    assert [r["customer_id"] for r in churn["top"]] == ["S1", "S4"]
    assert churn["revenue_at_stake"] == pytest.approx(1000)
    assert risk["headlines_en"][0] == ("Xylo is 60% of the last 12 months of revenue "
                                       "(above 15%)")


@pytest.mark.parametrize(("payments", "reason"), [
    ([], "no `payments` table"),
    ([_pay("I1", "X1", None, None, 100)], "no due dates"),
    ([_pay("P7", "X1", "2026-06-01", None, 100), _pay("P8", "X1", "2026-05-01", "2026-05-03",
                                                      50)], "not linked to invoices"),
])
def test_credit_off_without_linked_payments(ws: Workspace, payments: list[dict[str, Any]],
                                            reason: str) -> None:
    """Without payments that have due dates and are linked to invoices, credit risk is off with
    the reason (in the result, the headlines and `status`), and no number is NaN."""
    insert(ws, "invoice_lines", [line(1, "2026-04-10", "X1", "R1", 600, 0)])
    insert(ws, "payments", payments)
    risk = portfolio_risk(ws, as_of=AS_OF)
    cr = risk["credit"]
    assert cr["available"] is False
    assert reason in cr["reason_en"] and cr["reason_he"]
    assert all(cr[k] is None for k in ("dso_days", "overdue", "overdue_share",
                                       "open_receivables", "customers_overdue"))
    assert any(reason in h for h in risk["headlines_en"])
    assert any("סיכון אשראי" in h for h in risk["headlines_he"])
    json.dumps(risk, allow_nan=False)  # strict JSON: no NaN anywhere
    states = {f["feature"]: f for f in with_credit_check(ws.status(), ws).to_dict()["features"]}
    assert states["credit risk"]["on"] is False
    assert reason in states["credit risk"]["reason"]
