"""CDNOW sample data and the summaries built from it, shared by the model tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

CDNOW = Path(__file__).parents[1] / "data" / "cdnow"
START = np.datetime64("1997-01-01")
CALIBRATION_END = np.datetime64("1997-09-30")  # inclusive: 39 weeks
HOLDOUT_END = np.datetime64("1998-06-30")


@dataclass(frozen=True)
class Transactions:
    """Raw CDNOW records: customer, date, dollars (one entry per record)."""

    customer: npt.NDArray[np.int64]
    date: npt.NDArray[np.datetime64]
    dollars: npt.NDArray[np.float64]


@dataclass(frozen=True)
class Summary:
    """Per-customer calibration summary (weeks) plus holdout repeat purchases."""

    customer: npt.NDArray[np.int64]
    frequency: npt.NDArray[np.float64]
    recency: npt.NDArray[np.float64]
    T: npt.NDArray[np.float64]
    monetary: npt.NDArray[np.float64]
    holdout: npt.NDArray[np.float64]
    n_customer_days: int


def read_transactions() -> Transactions:
    """Parse ``CDNOW_sample.txt`` (whitespace-separated, no header)."""
    raw = np.loadtxt(CDNOW / "CDNOW_sample.txt", dtype=str)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    return Transactions(raw[:, 1].astype(np.int64), dates, raw[:, 4].astype(np.float64))


def summarize(tx: Transactions) -> Summary:
    """Customer-day summary in weeks, computed independently of the library (numpy only)."""
    day = (tx.date - START).astype(np.int64)
    # one entry per customer-day, with its total dollars
    key = tx.customer * 100_000 + day
    keys, inverse = np.unique(key, return_inverse=True)
    day_dollars = np.bincount(inverse, weights=tx.dollars)
    cust, cday = keys // 100_000, keys % 100_000
    cutoff = int((CALIBRATION_END - START).astype(np.int64))
    calib = cday <= cutoff
    customers, first_index = np.unique(cust, return_index=True)  # keys sorted: first = first day
    position = np.searchsorted(customers, cust)
    n_days = np.bincount(position, weights=calib)
    first = cday[first_index]
    last = np.zeros(len(customers), dtype=np.int64)
    np.maximum.at(last, position[calib], cday[calib])
    is_first = np.zeros(len(keys), dtype=bool)
    is_first[first_index] = True
    repeat_dollars = np.bincount(position, weights=day_dollars * (calib & ~is_first))
    frequency = (n_days - 1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_dollars / frequency, 0.0)
    holdout = np.bincount(position, weights=~calib).astype(np.float64)
    return Summary(
        customer=customers,
        frequency=frequency,
        recency=(last - first) / 7.0,
        T=(cutoff - first) / 7.0,
        monetary=monetary,
        holdout=holdout,
        n_customer_days=len(keys),
    )


@pytest.fixture(scope="session")
def cdnow_transactions() -> Transactions:
    return read_transactions()


@pytest.fixture(scope="session")
def cdnow(cdnow_transactions: Transactions) -> Summary:
    """Calibration summary built from the raw records."""
    return summarize(cdnow_transactions)


@pytest.fixture(scope="session")
def hardie_summary() -> npt.NDArray[np.float64]:
    """Hardie's summary with zbar: columns ID, x, t_x, T, zbar."""
    return np.loadtxt(
        CDNOW / "cdnow_customers_summary_with_transactions.csv", delimiter=",", skiprows=1
    )
