"""purchase_summary: invoice lines -> (frequency, recency, T, monetary) with Ibis on DuckDB."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import numpy as np
import pytest

from salesradar.errors import UserInputError
from salesradar.models import BetaGeoModel, purchase_summary

from .conftest import CALIBRATION_END, Summary, Transactions

D = dt.date


@pytest.fixture
def backend() -> Any:
    return ibis.duckdb.connect()


def _lines(backend: Any, with_cost: bool = True) -> Any:
    rows = [
        # customer A: two lines on day 1 (one purchase), day 5, day 11; a line after the cutoff
        ("A", D(2024, 1, 1), 100.0, 60.0),
        ("A", D(2024, 1, 1), 50.0, 30.0),
        ("A", D(2024, 1, 5), 80.0, 40.0),
        ("A", D(2024, 1, 11), 120.0, 90.0),
        ("A", D(2024, 2, 1), 999.0, 1.0),
        # customer B: one purchase only
        ("B", D(2024, 1, 10), 40.0, 30.0),
        # customer E: free goods on day 12 still make a purchase occasion
        ("E", D(2024, 1, 2), 60.0, 45.0),
        ("E", D(2024, 1, 12), 0.0, 5.0),
        # customer C: a credit note alone on day 8 is not a purchase; day 15 nets to 70
        ("C", D(2024, 1, 3), 200.0, 150.0),
        ("C", D(2024, 1, 8), -30.0, -20.0),
        ("C", D(2024, 1, 15), 100.0, 60.0),
        ("C", D(2024, 1, 15), -30.0, -20.0),
        # customer D: first purchase after the cutoff
        ("D", D(2024, 1, 25), 10.0, 5.0),
    ]
    data: dict[str, list[Any]] = {
        "customer_id": [r[0] for r in rows],
        "invoice_date": [r[1] for r in rows],
        "net_revenue": [r[2] for r in rows],
    }
    if with_cost:
        data["cost"] = [r[3] for r in rows]
    return backend.create_table("lines", data, overwrite=True)


def test_summary_of_a_hand_made_table_in_days(backend: Any) -> None:
    summary = purchase_summary(_lines(backend), D(2024, 1, 20)).to_pyarrow().to_pylist()
    assert summary == [
        {
            "customer_id": "A",
            "frequency": 2,
            "recency": 10.0,
            "T": 19.0,
            "monetary": 100.0,  # (80 + 120) / 2; the first purchase day is excluded
            "margin_rate": pytest.approx((350 - 220) / 350),
        },
        {
            "customer_id": "B",
            "frequency": 0,
            "recency": 0.0,
            "T": 10.0,
            "monetary": 0.0,
            "margin_rate": pytest.approx(0.25),
        },
        {
            "customer_id": "C",
            "frequency": 1,
            "recency": 12.0,
            "T": 17.0,
            "monetary": 70.0,
            "margin_rate": pytest.approx((270 - 190) / 270),
        },
        {
            "customer_id": "E",
            "frequency": 1,
            "recency": 10.0,
            "T": 18.0,
            "monetary": 0.0,
            "margin_rate": pytest.approx((60 - 50) / 60),
        },
    ]


def test_weeks_timestamps_and_no_cost(backend: Any) -> None:
    lines = _lines(backend, with_cost=False)
    lines = lines.mutate(invoice_date=lines.invoice_date.cast("timestamp") + ibis.interval(hours=9))
    table = purchase_summary(lines, D(2024, 1, 20), time_unit="weeks").to_pyarrow()
    assert table.column_names == ["customer_id", "frequency", "recency", "T", "monetary"]
    assert table.column("recency").to_pylist() == pytest.approx([10 / 7, 0.0, 12 / 7, 10 / 7])
    assert table.column("T").to_pylist() == pytest.approx([19 / 7, 10 / 7, 17 / 7, 18 / 7])


def test_missing_columns_and_bad_unit(backend: Any) -> None:
    lines = _lines(backend).drop("net_revenue")
    with pytest.raises(UserInputError, match="net_revenue"):
        purchase_summary(lines, D(2024, 1, 20))
    with pytest.raises(UserInputError, match="time_unit"):
        purchase_summary(_lines(backend), D(2024, 1, 20), time_unit="months")  # type: ignore[arg-type]


def test_cdnow_through_ibis_matches_the_independent_summary(
    backend: Any, cdnow_transactions: Transactions, cdnow: Summary
) -> None:
    lines = backend.create_table(
        "cdnow",
        {
            "customer_id": cdnow_transactions.customer.tolist(),
            "invoice_date": cdnow_transactions.date.astype(dt.date).tolist(),
            "net_revenue": cdnow_transactions.dollars.tolist(),
        },
    )
    cutoff = CALIBRATION_END.astype(dt.date)
    table = purchase_summary(lines, cutoff, time_unit="weeks").to_pyarrow()
    np.testing.assert_array_equal(table.column("customer_id").to_numpy(), cdnow.customer)
    frequency = table.column("frequency").to_numpy()
    np.testing.assert_array_equal(frequency, cdnow.frequency)
    np.testing.assert_allclose(table.column("recency").to_numpy(), cdnow.recency, rtol=1e-12)
    np.testing.assert_allclose(table.column("T").to_numpy(), cdnow.T, rtol=1e-12)
    np.testing.assert_allclose(table.column("monetary").to_numpy(), cdnow.monetary, rtol=1e-12)
    # and straight into the model: the published estimates
    model = BetaGeoModel().fit(
        frequency, table.column("recency").to_numpy(), table.column("T").to_numpy()
    )
    assert model.params_ is not None
    assert round(model.params_.r, 3) == 0.243 and round(model.params_.b, 3) == 2.426
